//! `/openapi.json` (the OpenAPI 3.1 document of the REST layer, generated
//! from the handlers by utoipa) and `/docs`, the Swagger UI page FastAPI
//! users know, served from files vendored in `vendor/swagger-ui/` and
//! embedded in the binary: no CDN, no network, and a strict
//! `Content-Security-Policy` (scripts and styles from this origin only).

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi as _;

use crate::rest::ApiDoc;

/// The OpenAPI document, pretty-printed (as committed in `openapi.json`).
pub fn openapi_json() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

static OPENAPI: LazyLock<String> = LazyLock::new(openapi_json);

/// The policy of the `/docs` page and its assets.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>user-service legacy REST API (deprecated)</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body>
</html>
"#;

const INIT: &str = r##"window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"##;

static BUNDLE: &[u8] = include_bytes!("../../vendor/swagger-ui/swagger-ui-bundle.js");
static CSS: &[u8] = include_bytes!("../../vendor/swagger-ui/swagger-ui.css");

fn with_headers(content_type: &'static str, body: impl IntoResponse, cache: bool) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if cache {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        );
    }
    response
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    with_headers("application/json", OPENAPI.as_str(), false)
}

/// `GET /docs`.
pub async fn page() -> Response {
    with_headers("text/html; charset=utf-8", PAGE, false)
}

/// `GET /docs/swagger-init.js`.
pub async fn init_js() -> Response {
    with_headers("text/javascript; charset=utf-8", INIT, true)
}

/// `GET /docs/swagger-ui-bundle.js`.
pub async fn bundle_js() -> Response {
    with_headers("text/javascript; charset=utf-8", BUNDLE, true)
}

/// `GET /docs/swagger-ui.css`.
pub async fn css() -> Response {
    with_headers("text/css; charset=utf-8", CSS, true)
}
