//! `/graphiql` without a CDN: a pinned GraphiQL build (vendored, unmodified
//! prebuilt files from the npm registry with their licences, see
//! `assets/graphiql/README.md`) embedded in the binary and served under
//! `/graphiql/assets/<tag>/`, where `<tag>` changes whenever a file does
//! (so the files can be cached for a year).
//!
//! The page runs under a strict `Content-Security-Policy` ([`csp`]): scripts,
//! styles and connections from this origin only, no inline script, no
//! `eval`. Its configuration (endpoint, subscription URL, the pre-filled
//! example operation and `Authorization` header template) is a JSON data
//! block that `init.js` reads. Subscriptions use graphql-ws over
//! `ws(s)://<host>/graphql`, or `GRAPHIQL_SUBSCRIPTION_URL`.

use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::http::state::HttpState;

/// The GraphiQL release the assets come from.
pub const GRAPHIQL_VERSION: &str = "3.8.3";

/// An embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/assets/graphiql/",
                $name
            )),
        }
    };
}

static ASSETS: [Asset; 6] = [
    asset!("react.production.min.js", "text/javascript; charset=utf-8"),
    asset!(
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("graphql-ws.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.min.css", "text/css; charset=utf-8"),
    asset!("init.js", "text/javascript; charset=utf-8"),
];

/// A digest of every asset: their URL segment.
static TAG: LazyLock<String> = LazyLock::new(|| {
    let mut digest = Sha256::new();
    for asset in &ASSETS {
        digest.update(asset.name.as_bytes());
        digest.update(asset.bytes);
    }
    let hex = format!("{:x}", digest.finalize());
    format!("{GRAPHIQL_VERSION}-{}", &hex[..12])
});

/// The operation the page opens with.
pub const EXAMPLE_OPERATION: &str = r#"# The user-service. Run this with the ▶ button (or Ctrl-Enter).
# To act as a user, put a token in the Authorization header below:
#   user-service token --sub 42        (add --admin for the admin role)
query Profile($id: ID! = "42") {
  user(authUserId: $id) {
    authUserId
    username
    displayName
    plan
    badges { name dateAchieved }
    goals { title status streakCount lastCheckInOn }
    stats { goalCount goalsCompleted longestStreak }
  }
}
"#;

/// The Authorization template of the Headers tab; `init.js` does not send
/// it until the placeholder is replaced by a token.
pub const HEADERS_TEMPLATE: &str =
    "{\n  \"Authorization\": \"Bearer <paste a token: user-service token --sub 42>\"\n}";

/// The origin of a WebSocket URL (`ws://host:port`), for `connect-src`.
fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    matches!(url.scheme(), "ws" | "wss")
        .then(|| url.origin().ascii_serialization())
        .filter(|origin| origin != "null")
}

/// The page's `Content-Security-Policy`.
pub fn csp(config: &Config) -> String {
    let mut connect = "'self'".to_owned();
    if let Some(origin) = config
        .platform
        .graphiql_subscription_url
        .as_deref()
        .and_then(origin_of)
    {
        connect.push(' ');
        connect.push_str(&origin);
    }
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self' data:; connect-src {connect}; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// The HTML of the page.
fn page_html(config: &Config) -> String {
    let settings = serde_json::json!({
        "endpoint": "/graphql",
        "subscriptionUrl": config.platform.graphiql_subscription_url,
        "defaultQuery": EXAMPLE_OPERATION,
        "defaultHeaders": HEADERS_TEMPLATE,
    });
    // `<` escaped, so no string can close the data block.
    let settings = settings.to_string().replace('<', "\\u003c");
    let tag = TAG.as_str();
    let script = |name: &str| format!("<script src=\"/graphiql/assets/{tag}/{name}\"></script>");
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>user-service · GraphiQL</title>\n\
         <link rel=\"stylesheet\" href=\"/graphiql/assets/{tag}/graphiql.min.css\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         </head>\n<body>\n\
         <div id=\"graphiql\">Loading GraphiQL…</div>\n\
         <script id=\"graphiql-config\" type=\"application/json\">{settings}</script>\n\
         {}\n{}\n{}\n{}\n{}\n</body>\n</html>\n",
        script("react.production.min.js"),
        script("react-dom.production.min.js"),
        script("graphql-ws.min.js"),
        script("graphiql.min.js"),
        script("init.js"),
    )
}

/// `GET /graphiql`: the page, with its CSP.
pub async fn page(State(state): State<HttpState>) -> Response {
    let config = &state.app.config;
    let mut response = Html(page_html(config)).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&csp(config)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// `GET /graphiql/assets/{tag}/{name}`: an embedded file, cached for a year
/// (a new build has a new tag); 404 for any other tag or name.
pub async fn asset(Path((tag, name)): Path<(String, String)>) -> Response {
    let found = ASSETS
        .iter()
        .find(|asset| asset.name == name)
        .filter(|_| tag == *TAG);
    let Some(asset) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vendored files are the ones `assets/graphiql/README.md` lists.
    #[test]
    fn vendored_files_match_their_recorded_hashes() {
        let readme = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/graphiql/README.md"
        ));
        for asset in ASSETS.iter().filter(|asset| asset.name != "init.js") {
            let digest = format!("{:x}", Sha256::digest(asset.bytes));
            assert!(
                readme.contains(&format!("{digest}  {}", asset.name)),
                "{} changed (sha256 {digest}); update assets/graphiql/README.md",
                asset.name
            );
        }
    }

    #[test]
    fn the_page_loads_scripts_from_this_origin_only() {
        let config = Config::defaults();
        let html = page_html(&config);
        assert!(!html.contains("https://"), "{html}");
        assert!(!html.contains("<script>"), "no inline script: {html}");
        let policy = csp(&config);
        assert!(policy.contains("script-src 'self';"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
    }

    #[test]
    fn a_configured_subscription_url_is_allowed_to_connect() {
        let mut config = Config::defaults();
        config.platform.graphiql_subscription_url = Some("wss://api.example.com/graphql".into());
        assert!(csp(&config).contains("connect-src 'self' wss://api.example.com;"));
        assert!(page_html(&config).contains("wss://api.example.com/graphql"));
    }
}
