// Renders GraphiQL for /graphiql (see README.md here). The page holds its
// configuration as JSON in <script id="graphiql-config" type="application/json">,
// since its Content-Security-Policy runs no inline script.
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('graphiql-config').textContent);
  var subscriptionUrl = config.subscriptionUrl ||
    (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + config.endpoint;

  // The pre-filled Authorization header is a template until a token is
  // pasted in: a request never sends the placeholder (the service would
  // refuse it as an invalid token), so the example runs anonymously first.
  function withoutTemplates(headers) {
    var out = {};
    Object.keys(headers || {}).forEach(function (name) {
      var value = headers[name];
      if (name.toLowerCase() === 'authorization' && /^\s*Bearer\s*(<[^>]*>)?\s*$/i.test(String(value))) {
        return;
      }
      out[name] = value;
    });
    return out;
  }

  function fetchWithoutTemplates(url, init) {
    var options = Object.assign({}, init || {});
    options.headers = withoutTemplates(options.headers);
    return window.fetch(url, options);
  }

  // The headers of the operation GraphiQL runs now (from its Headers tab),
  // also sent as the WebSocket's connection params.
  var currentHeaders = {};

  // Subscriptions go over graphql-ws (the `graphql-transport-ws` protocol);
  // the client connects only when a subscription runs.
  var wsClient = window.graphqlWs.createClient({
    url: subscriptionUrl,
    lazy: true,
    connectionParams: function () { return withoutTemplates(currentHeaders); },
  });

  var createdFetcher = GraphiQL.createFetcher({
    url: config.endpoint,
    headers: { 'Apollo-Require-Preflight': 'true' },
    fetch: fetchWithoutTemplates,
    wsClient: wsClient,
  });
  function fetcher(params, options) {
    currentHeaders = (options && options.headers) || {};
    return createdFetcher(params, options);
  }

  // Styles set through the CSSOM, which the CSP allows (style attributes
  // in the HTML it would not).
  var container = document.getElementById('graphiql');
  document.body.style.margin = '0';
  container.style.height = '100vh';
  var root = ReactDOM.createRoot(container);
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: config.defaultQuery,
    defaultHeaders: config.defaultHeaders,
    defaultEditorToolsVisibility: 'headers',
    shouldPersistHeaders: false,
  }));
})();
