// Test-only: opens /graphiql in Debian's Chromium (playwright-core) with the
// network closed to everything but the page's own origin, runs a
// subscription with the token in the Headers tab (GraphiQL sends it in
// `connection_init` over the WebSocket on /graphql), makes a change with a
// plain POST from the page, and waits for the event to show in the response
// pane. Prints one JSON line for tests/api/graphiql.rs:
// {"event": "...", "frames": [...], "external": [...], "consoleErrors": [...]}.
//
// Environment: PAGE_URL (the page), TOKEN (a token of USER_ID), USER_ID (the
// token's subject), CHROMIUM (the browser, default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { closedPage, launchOptions } from './launch.mjs';

const pageUrl = process.env.PAGE_URL;
const token = process.env.TOKEN;
const user = process.env.USER_ID;
if (!pageUrl || !token || !user) {
  console.error('PAGE_URL, TOKEN and USER_ID are required');
  process.exit(2);
}
const origin = new URL(pageUrl).origin;
const wsOrigin = origin.replace(/^http/, 'ws');

const browser = await chromium.launch(launchOptions());
const result = { external: [], consoleErrors: [], frames: [] };
try {
  const page = await closedPage(browser, origin, result);
  let subscribed;
  const subscribedNow = new Promise((resolve) => { subscribed = resolve; });
  page.on('websocket', (socket) => {
    if (!socket.url().startsWith(wsOrigin)) {
      result.external.push(socket.url());
      return;
    }
    const types = (payload) => {
      try { return JSON.parse(payload).type; } catch { return 'binary'; }
    };
    socket.on('framesent', (frame) => {
      const type = types(frame.payload);
      result.frames.push(`sent ${type}`);
      if (type === 'subscribe') subscribed();
    });
    socket.on('framereceived', (frame) => result.frames.push(`received ${types(frame.payload)}`));
  });

  await page.goto(pageUrl, { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30000 });
  await page.evaluate((token) => {
    const editors = [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')]
      .map((element) => element.CodeMirror);
    const headers = editors.find((editor) => editor.getValue().includes('"Authorization"'));
    headers.setValue(JSON.stringify({ Authorization: `Bearer ${token}` }));
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
      .setValue('subscription Live { myActivity { kind } }');
  }, token);
  // GraphiQL takes editor changes into its state after a short debounce.
  await page.waitForTimeout(1000);
  await page.click('.graphiql-execute-button');
  await Promise.race([
    subscribedNow,
    new Promise((_, reject) => setTimeout(() => reject(new Error('no subscribe frame')), 30000)),
  ]);
  // The server starts listening once the resolver has run: give it a moment.
  await page.waitForTimeout(1000);

  // A change, made from the page like any client would.
  result.mutation = await page.evaluate(async ({ token, user }) => {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: 'mutation($id: ID!) { createGoal(authUserId: $id, input: { title: "From the browser" }) { id } }',
        variables: { id: user },
      }),
    });
    return response.status;
  }, { token, user });

  await page.waitForFunction(() => {
    const value = document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue();
    return value.includes('GOAL_CREATED');
  }, null, { timeout: 30000 });
  result.event = await page.evaluate(() =>
    document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
} catch (error) {
  result.error = String(error && error.stack || error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
