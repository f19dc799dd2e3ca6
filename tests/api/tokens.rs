//! Tokens per RFC 8725: a configured issuer or audience is required,
//! registered claims of the wrong type are refused, production refuses the
//! public development secret and warns when neither issuer nor audience is
//! set; and a property test over arbitrary claims and token strings.

use std::io::Write;
use std::sync::{Arc, Mutex};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use user_service::auth::TokenVerifier;
use user_service::config::{AppEnv, Config, DEVELOPMENT_SECRET};
use user_service::db::Database;

use crate::helpers::{TEST_SECRET, TestApp, test_config};

const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "user-service";
const ME: &str = "{ me { authUserId } }";

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims that pass with issuer and audience configured.
fn good_claims() -> Value {
    json!({ "sub": "alice", "exp": now() + 3600, "iat": now(), "iss": ISSUER, "aud": AUDIENCE })
}

/// `good_claims` with `changes` applied (`null` removes a claim).
fn claims_with(changes: Value) -> Value {
    let mut claims = good_claims();
    for (name, value) in changes.as_object().expect("object") {
        match value {
            Value::Null => {
                claims.as_object_mut().expect("object").remove(name);
            }
            value => claims[name] = value.clone(),
        }
    }
    claims
}

async fn strict_app() -> TestApp {
    TestApp::spawn_with(|config| {
        config.auth.jwt_issuer = Some(ISSUER.to_owned());
        config.auth.jwt_audience = Some(AUDIENCE.to_owned());
    })
    .await
}

#[track_caller]
fn assert_refused(response: &crate::helpers::TestResponse, what: &str) {
    assert_eq!(
        response.status,
        http::StatusCode::UNAUTHORIZED,
        "{what}: {}",
        response.body
    );
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"), "{what}");
}

#[tokio::test]
async fn a_configured_issuer_or_audience_is_required() {
    let app = strict_app().await;
    let good = sign(&good_claims(), TEST_SECRET);
    assert_eq!(
        app.graphql(ME, json!({}), Some(&good)).await.ok()["me"]["authUserId"],
        "alice"
    );
    for (what, changes) in [
        ("no iss", json!({ "iss": null })),
        ("no aud", json!({ "aud": null })),
        ("neither", json!({ "iss": null, "aud": null })),
    ] {
        let token = sign(&claims_with(changes), TEST_SECRET);
        let response = app.graphql(ME, json!({}), Some(&token)).await;
        assert_refused(&response, what);
    }

    // Only the issuer configured: a token without aud passes, one without
    // iss does not.
    let app = TestApp::spawn_with(|config| config.auth.jwt_issuer = Some(ISSUER.to_owned())).await;
    let token = sign(&claims_with(json!({ "aud": null })), TEST_SECRET);
    app.graphql(ME, json!({}), Some(&token)).await.ok();
    let token = sign(
        &claims_with(json!({ "iss": null, "aud": null })),
        TEST_SECRET,
    );
    assert_refused(&app.graphql(ME, json!({}), Some(&token)).await, "no iss");
}

#[tokio::test]
async fn registered_claims_of_the_wrong_type_are_refused() {
    let strict = strict_app().await;
    let lax = TestApp::spawn().await;
    let cases = [
        ("nbf a string", json!({ "nbf": "yesterday" })),
        ("nbf a bool", json!({ "nbf": true })),
        ("exp a string", json!({ "exp": (now() + 3600).to_string() })),
        ("iat a string", json!({ "iat": "now" })),
        ("iat negative", json!({ "iat": -5 })),
        ("iss a number", json!({ "iss": 42 })),
        ("iss an array", json!({ "iss": [ISSUER] })),
        ("sub a bool", json!({ "sub": true })),
        ("sub an object", json!({ "sub": { "id": "alice" } })),
        ("aud a number", json!({ "aud": 7 })),
        (
            "aud an array with a number",
            json!({ "aud": [AUDIENCE, 7] }),
        ),
        ("aud an object", json!({ "aud": { "name": AUDIENCE } })),
        ("jti a number", json!({ "jti": 1 })),
    ];
    for (what, changes) in cases {
        let claims = claims_with(changes.clone());
        let token = sign(&claims, TEST_SECRET);
        assert_refused(&strict.graphql(ME, json!({}), Some(&token)).await, what);
        // Also without issuer and audience configured (the claims are
        // then not checked for their value, but still for their type).
        let mut lax_claims = claims_with(json!({ "iss": null, "aud": null }));
        for (name, value) in changes.as_object().unwrap() {
            lax_claims[name] = value.clone();
        }
        let token = sign(&lax_claims, TEST_SECRET);
        assert_refused(&lax.graphql(ME, json!({}), Some(&token)).await, what);
    }
    // Well-typed variants still pass: an audience array, an integer
    // subject (its decimal string), a fractional NumericDate.
    for changes in [
        json!({ "aud": ["billing", AUDIENCE] }),
        json!({ "sub": 42 }),
        json!({ "nbf": now() as f64 - 10.5, "jti": "abc" }),
    ] {
        let token = sign(&claims_with(changes.clone()), TEST_SECRET);
        let response = strict.graphql(ME, json!({}), Some(&token)).await;
        assert!(
            response.body.get("errors").is_none(),
            "{changes}: {}",
            response.body
        );
    }
    assert_eq!(
        strict
            .count("SELECT count(*) AS n FROM auth_users WHERE auth_user_id = 'alice'")
            .await,
        1,
        "only the well-typed tokens reached the user"
    );
}

/// A production configuration on `app`'s database.
fn production(app: &TestApp) -> Config {
    let mut config = test_config(&app.db, &app.auth_service.uri());
    config.app_env = AppEnv::Production;
    config
}

async fn builds(config: Config) -> anyhow::Result<()> {
    let database = Database::pool(&config.database).await.expect("pool");
    user_service::build_state(config, database, user_service::system_clock()).map(drop)
}

#[tokio::test]
async fn production_refuses_the_development_secret() {
    let app = TestApp::spawn().await;
    let mut config = production(&app);
    config.auth.jwt_secret = Some(SecretString::from(DEVELOPMENT_SECRET.to_owned()));
    assert!(
        config.validate().is_ok(),
        "the development secret passes the length check, so it needs its own rule"
    );
    let refused = builds(config.clone()).await.expect_err("refused");
    let message = refused.to_string();
    assert!(message.contains("development secret"), "{message}");
    assert!(
        !message.contains(DEVELOPMENT_SECRET),
        "the secret is not echoed"
    );
    // Through SECRET_KEY too.
    config.auth.jwt_secret = None;
    config.auth.secret_key = Some(SecretString::from(DEVELOPMENT_SECRET.to_owned()));
    assert!(builds(config.clone()).await.is_err());
    // A secret of one's own starts.
    config.auth.secret_key = Some(SecretString::from(TEST_SECRET.to_owned()));
    builds(config.clone()).await.expect("a real secret starts");
    // Outside production the development secret is fine.
    config.app_env = AppEnv::Development;
    config.auth.secret_key = None;
    config.auth.jwt_secret = None;
    builds(config).await.expect("development starts");
}

/// A log sink for one thread's tracing output.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn warnings_of(config: &Config) -> String {
    let sink = Captured::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        user_service::auth::check_production(config).expect("starts");
    });
    String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
}

#[tokio::test]
async fn production_warns_when_neither_issuer_nor_audience_is_set() {
    let app = TestApp::spawn().await;
    let config = production(&app);
    let logged = warnings_of(&config);
    assert!(
        logged.contains("WARN") && logged.contains("JWT_ISSUER") && logged.contains("JWT_AUDIENCE"),
        "expected a warning, got {logged:?}"
    );
    assert!(!logged.contains(TEST_SECRET));

    let mut config = production(&app);
    config.auth.jwt_audience = Some(AUDIENCE.to_owned());
    assert_eq!(warnings_of(&config), "", "an audience is enough");
    let mut config = test_config(&app.db, &app.auth_service.uri());
    config.app_env = AppEnv::Development;
    assert_eq!(warnings_of(&config), "", "no warning outside production");
}

// ---------------------------------------------------------------------------
// Property test: the verifier never panics, and accepts exactly the
// correctly signed tokens whose registered claims are well typed and valid.

/// The verifier under test: issuer and audience configured.
fn verifier() -> TokenVerifier {
    let mut config = Config::defaults();
    config.auth.jwt_issuer = Some(ISSUER.to_owned());
    config.auth.jwt_audience = Some(AUDIENCE.to_owned());
    TokenVerifier::new(&config.auth, &SecretString::from(TEST_SECRET.to_owned()))
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::hash_map(".{0,6}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A value for a claim: well-typed and valid, well-typed and invalid, or of
/// any type at all; `None` leaves the claim out.
fn claim(valid: Vec<Value>, invalid: Vec<Value>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => prop::sample::select(valid).prop_map(Some),
        1 => prop::sample::select(invalid).prop_map(Some),
        1 => any_json().prop_map(Some),
        1 => Just(None),
    ]
}

fn claims_strategy() -> impl Strategy<Value = Map<String, Value>> {
    let now = now();
    let future = (now + 3600) as f64;
    (
        claim(
            vec![json!(now + 3600), json!(future + 0.25)],
            vec![json!(now - 3600), json!("9999999999"), json!(-1)],
        ),
        claim(
            vec![json!(now - 3600), json!(now as f64 - 100.5)],
            vec![json!(now + 3600), json!("yesterday")],
        ),
        claim(vec![json!(now)], vec![json!("now"), json!(-5)]),
        claim(
            vec![json!(ISSUER)],
            vec![json!("https://evil.example.com"), json!(1), json!([ISSUER])],
        ),
        claim(
            vec![
                json!(AUDIENCE),
                json!([AUDIENCE]),
                json!(["billing", AUDIENCE]),
            ],
            vec![json!("billing"), json!([AUDIENCE, 1]), json!(7)],
        ),
        claim(
            vec![json!("alice"), json!(42), json!("a-b_9")],
            vec![json!("ali ce"), json!(""), json!(1.5), json!(true)],
        ),
        claim(vec![json!("id-1")], vec![json!(1), json!(["x"])]),
        prop::collection::hash_map("[a-z]{1,6}", any_json(), 0..3),
    )
        .prop_map(|(exp, nbf, iat, iss, aud, sub, jti, extra)| {
            let mut claims: Map<String, Value> = extra.into_iter().collect();
            for (name, value) in [
                ("exp", exp),
                ("nbf", nbf),
                ("iat", iat),
                ("iss", iss),
                ("aud", aud),
                ("sub", sub),
                ("jti", jti),
            ] {
                claims.remove(name);
                if let Some(value) = value {
                    claims.insert(name.to_owned(), value);
                }
            }
            claims
        })
}

/// The model: whether these claims, correctly signed, must be accepted.
fn model_accepts(claims: &Map<String, Value>) -> bool {
    let now = now() as f64;
    let leeway = 30.0;
    let numeric = |name: &str| {
        claims
            .get(name)
            .map(|v| v.as_f64().filter(|x| *x >= 0.0 && *x < u64::MAX as f64))
    };
    let exp_ok = matches!(numeric("exp"), Some(Some(exp)) if exp + leeway >= now);
    let nbf_ok = match numeric("nbf") {
        None => true,
        Some(Some(nbf)) => nbf <= now + leeway,
        Some(None) => false,
    };
    let iat_ok = !matches!(numeric("iat"), Some(None));
    let iss_ok = claims.get("iss") == Some(&json!(ISSUER));
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == AUDIENCE,
        Some(Value::Array(items)) => {
            items.iter().all(Value::is_string) && items.contains(&json!(AUDIENCE))
        }
        _ => false,
    };
    let sub_ok = match claims.get("sub") {
        Some(Value::String(sub)) => {
            !sub.is_empty()
                && sub.len() <= 64
                && sub
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }
        Some(Value::Number(n)) => n.is_i64() || n.is_u64(),
        _ => false,
    };
    let jti_ok = claims.get("jti").is_none_or(Value::is_string);
    exp_ok && nbf_ok && iat_ok && iss_ok && aud_ok && sub_ok && jti_ok
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_verifier_accepts_exactly_well_typed_correctly_signed_tokens(
        claims in claims_strategy(),
        wrong_key in any::<bool>(),
    ) {
        let verifier = verifier();
        let secret = if wrong_key { "another-secret-another-secret-another" } else { TEST_SECRET };
        let token = sign(&Value::Object(claims.clone()), secret);
        let verified = runtime().block_on(verifier.verify(&token));
        let expected = !wrong_key && model_accepts(&claims);
        prop_assert_eq!(verified.is_ok(), expected, "claims {:?}: {:?}", claims, verified);
        if let Ok(user) = verified {
            let sub = match &claims["sub"] {
                Value::String(sub) => sub.clone(),
                other => other.to_string(),
            };
            prop_assert_eq!(user.id.as_str(), sub);
        }
    }

    #[test]
    fn arbitrary_token_strings_are_refused_without_panicking(
        token in prop_oneof![
            ".{0,200}",
            "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,40}",
        ],
    ) {
        let verified = runtime().block_on(verifier().verify(&token));
        prop_assert!(verified.is_err());
    }

    #[test]
    fn tokens_with_arbitrary_headers_and_payloads_are_refused_without_panicking(
        header in any_json(),
        payload in any_json(),
        signature in "[A-Za-z0-9_-]{0,60}",
    ) {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            signature
        );
        let verified = runtime().block_on(verifier().verify(&token));
        prop_assert!(verified.is_err());
    }
}
