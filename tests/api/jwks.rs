//! Tokens verified with keys from the auth-service's JWKS: RS256 and ES256
//! keys generated here, key rotation through an unknown `kid`, the refresh
//! rate limit, a token signed with the wrong key, and algorithm confusion.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::TestApp;

const JWKS_PATH: &str = "/.well-known/jwks.json";

/// A generated signing key and its public JWK.
struct TestKey {
    encoding: EncodingKey,
    algorithm: Algorithm,
    /// The public key without `kid`.
    jwk: Value,
    /// The public key in PEM (for the algorithm-confusion attack).
    public_pem: String,
}

impl TestKey {
    fn rsa() -> Self {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let der = key.to_pkcs1_der().expect("PKCS#1");
        let public = key.to_public_key();
        Self {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            algorithm: Algorithm::RS256,
            jwk: json!({
                "kty": "RSA", "use": "sig", "alg": "RS256",
                "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
            }),
            public_pem: public.to_pkcs1_pem(LineEnding::LF).expect("PEM"),
        }
    }

    fn ec() -> Self {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("read key");
        let point = pair.public_key().as_ref();
        assert_eq!(point.len(), 65, "uncompressed P-256 point");
        Self {
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            algorithm: Algorithm::ES256,
            jwk: json!({
                "kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }),
            public_pem: String::new(),
        }
    }

    fn jwk(&self, kid: &str) -> Value {
        let mut jwk = self.jwk.clone();
        jwk["kid"] = kid.into();
        jwk
    }

    /// A token for `sub`, valid for an hour, naming `kid`.
    fn token(&self, sub: &str, kid: Option<&str>) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, &claims(sub), &self.encoding).expect("sign")
    }
}

fn claims(sub: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": sub, "iat": now, "exp": now + 3600, "roles": [] })
}

/// Two RSA keys, generated once per test process (slow in debug builds).
fn rsa_keys() -> &'static (TestKey, TestKey) {
    static KEYS: OnceLock<(TestKey, TestKey)> = OnceLock::new();
    KEYS.get_or_init(|| (TestKey::rsa(), TestKey::rsa()))
}

/// An app verifying tokens with the JWKS served by its stub auth-service.
async fn app_with_jwks(algorithm: Option<Algorithm>, min_refresh_ms: u64) -> TestApp {
    TestApp::spawn_with(|config| {
        config.auth.auth_jwks_url = Some(format!("{}{JWKS_PATH}", config.auth.auth_service_url));
        config.auth.jwt_algorithm = algorithm;
        config.auth.auth_jwks_min_refresh = std::time::Duration::from_millis(min_refresh_ms);
    })
    .await
}

async fn serve_jwks(app: &TestApp, keys: Vec<Value>) {
    app.auth_service.reset().await;
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "keys": keys })))
        .mount(&app.auth_service)
        .await;
}

async fn jwks_requests(app: &TestApp) -> usize {
    app.auth_service
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .filter(|request| request.url.path() == JWKS_PATH)
        .count()
}

/// `me`'s id with `token`, or the error code.
async fn me(app: &TestApp, token: &str) -> Result<String, String> {
    let response = app
        .graphql("{ me { authUserId } }", json!({}), Some(token))
        .await;
    match response.error_code() {
        Some(code) => Err(code.to_owned()),
        None => Ok(response.data()["me"]["authUserId"]
            .as_str()
            .expect("id")
            .to_owned()),
    }
}

#[tokio::test]
async fn an_rs256_token_verifies_with_a_key_from_the_jwks() {
    let (key, _) = rsa_keys();
    let app = app_with_jwks(None, 30_000).await;
    serve_jwks(&app, vec![key.jwk("rsa-1")]).await;

    assert_eq!(
        me(&app, &key.token("jw-rs", Some("rsa-1"))).await,
        Ok("jw-rs".to_owned())
    );
    assert_eq!(
        me(&app, &key.token("jw-rs", Some("rsa-1"))).await,
        Ok("jw-rs".to_owned())
    );
    assert_eq!(jwks_requests(&app).await, 1, "the keys are cached");
    // The shared-secret token is no good once JWKS is configured.
    assert_eq!(
        me(&app, &app.token("jw-rs")).await,
        Err("UNAUTHENTICATED".to_owned())
    );
}

#[tokio::test]
async fn an_es256_token_verifies_when_es256_is_pinned() {
    let key = TestKey::ec();
    let (rsa_key, _) = rsa_keys();
    let app = app_with_jwks(Some(Algorithm::ES256), 30_000).await;
    serve_jwks(&app, vec![key.jwk("ec-1"), rsa_key.jwk("rsa-1")]).await;

    assert_eq!(
        me(&app, &key.token("jw-es", Some("ec-1"))).await,
        Ok("jw-es".to_owned())
    );
    // An RS256 token from the same set is refused: ES256 is pinned.
    assert_eq!(
        me(&app, &rsa_key.token("jw-es", Some("rsa-1"))).await,
        Err("UNAUTHENTICATED".to_owned())
    );
}

#[tokio::test]
async fn a_token_naming_a_new_kid_refreshes_the_keys() {
    let (old, new) = rsa_keys();
    let app = app_with_jwks(None, 0).await;
    serve_jwks(&app, vec![old.jwk("2026-01")]).await;
    assert_eq!(
        me(&app, &old.token("jw-rot", Some("2026-01"))).await,
        Ok("jw-rot".to_owned())
    );

    // The auth-service rotates: the new kid is fetched on first sight.
    serve_jwks(&app, vec![old.jwk("2026-01"), new.jwk("2026-02")]).await;
    assert_eq!(
        me(&app, &new.token("jw-rot", Some("2026-02"))).await,
        Ok("jw-rot".to_owned())
    );
    assert_eq!(jwks_requests(&app).await, 1, "one refresh after the reset");
    // Both keys are now cached.
    assert_eq!(
        me(&app, &old.token("jw-rot", Some("2026-01"))).await,
        Ok("jw-rot".to_owned())
    );
    assert_eq!(jwks_requests(&app).await, 1);
}

#[tokio::test]
async fn random_kids_cannot_make_the_service_hammer_the_jwks() {
    let (key, _) = rsa_keys();
    let app = app_with_jwks(None, 60_000).await;
    serve_jwks(&app, vec![key.jwk("rsa-1")]).await;
    assert_eq!(
        me(&app, &key.token("jw-flood", Some("rsa-1"))).await,
        Ok("jw-flood".to_owned())
    );

    for n in 0..20 {
        let kid = format!("random-{n}");
        assert_eq!(
            me(&app, &key.token("jw-flood", Some(&kid))).await,
            Err("UNAUTHENTICATED".to_owned())
        );
    }
    assert_eq!(
        jwks_requests(&app).await,
        1,
        "no download within the minimum interval"
    );
}

#[tokio::test]
async fn a_token_signed_with_the_wrong_key_is_refused() {
    let (published, other) = rsa_keys();
    let app = app_with_jwks(None, 30_000).await;
    serve_jwks(&app, vec![published.jwk("rsa-1")]).await;

    // Signed with another private key, but naming the published kid.
    assert_eq!(
        me(&app, &other.token("jw-wrong", Some("rsa-1"))).await,
        Err("UNAUTHENTICATED".to_owned())
    );
    assert_eq!(
        me(&app, &published.token("jw-wrong", Some("rsa-1"))).await,
        Ok("jw-wrong".to_owned())
    );
}

#[tokio::test]
async fn an_hs256_token_is_refused_while_rs256_is_pinned() {
    let (key, _) = rsa_keys();
    let app = app_with_jwks(Some(Algorithm::RS256), 30_000).await;
    // The set even holds a symmetric key: it must never be used.
    let secret = URL_SAFE_NO_PAD.encode(crate::helpers::TEST_SECRET);
    serve_jwks(
        &app,
        vec![
            key.jwk("rsa-1"),
            json!({ "kty": "oct", "kid": "hmac-1", "k": secret }),
        ],
    )
    .await;

    // The classic attack: HMAC with the public key as the secret.
    let forged = jsonwebtoken::encode(
        &{
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("rsa-1".to_owned());
            header
        },
        &claims("jw-confused"),
        &EncodingKey::from_secret(key.public_pem.as_bytes()),
    )
    .expect("sign");
    assert_eq!(me(&app, &forged).await, Err("UNAUTHENTICATED".to_owned()));

    // HMAC with the secret the JWKS leaks as an `oct` key.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("hmac-1".to_owned());
    let with_oct = jsonwebtoken::encode(
        &header,
        &claims("jw-confused"),
        &EncodingKey::from_secret(crate::helpers::TEST_SECRET.as_bytes()),
    )
    .expect("sign");
    assert_eq!(me(&app, &with_oct).await, Err("UNAUTHENTICATED".to_owned()));
    assert_eq!(
        jwks_requests(&app).await,
        0,
        "a token of the wrong alg fetches nothing"
    );

    assert_eq!(
        me(&app, &key.token("jw-confused", Some("rsa-1"))).await,
        Ok("jw-confused".to_owned())
    );
}

#[tokio::test]
async fn without_jwks_hs256_with_the_shared_secret_keeps_working() {
    let app = TestApp::spawn().await;
    assert_eq!(me(&app, &app.token("jw-hs")).await, Ok("jw-hs".to_owned()));
    let (key, _) = rsa_keys();
    assert_eq!(
        me(&app, &key.token("jw-hs", Some("rsa-1"))).await,
        Err("UNAUTHENTICATED".to_owned())
    );
}

#[tokio::test]
async fn an_oversized_key_set_is_refused() {
    let key = TestKey::ec();
    let app = app_with_jwks(Some(Algorithm::ES256), 0).await;
    // A valid key, padded past the cap with a field nobody reads.
    let padding = "x".repeat(user_service::auth::jwks::MAX_JWKS_BODY_BYTES);
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "keys": [key.jwk("ec-1")], "padding": padding })),
        )
        .mount(&app.auth_service)
        .await;
    assert_eq!(
        me(&app, &key.token("alice", Some("ec-1"))).await,
        Err("UNAUTHENTICATED".to_owned())
    );
    assert_eq!(jwks_requests(&app).await, 1);

    // The same set without the padding is read.
    serve_jwks(&app, vec![key.jwk("ec-1")]).await;
    assert_eq!(
        me(&app, &key.token("alice", Some("ec-1"))).await,
        Ok("alice".to_owned())
    );
}

#[tokio::test]
async fn a_redirected_key_set_is_not_followed() {
    let key = TestKey::ec();
    let app = app_with_jwks(Some(Algorithm::ES256), 0).await;
    let elsewhere = format!("{}/elsewhere/jwks.json", app.auth_service.uri());
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(ResponseTemplate::new(302).insert_header("location", elsewhere.as_str()))
        .mount(&app.auth_service)
        .await;
    Mock::given(method("GET"))
        .and(path("/elsewhere/jwks.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "keys": [key.jwk("ec-1")] })),
        )
        .mount(&app.auth_service)
        .await;
    assert_eq!(
        me(&app, &key.token("alice", Some("ec-1"))).await,
        Err("UNAUTHENTICATED".to_owned())
    );
    let followed = app
        .auth_service
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .filter(|request| request.url.path() == "/elsewhere/jwks.json")
        .count();
    assert_eq!(followed, 0, "the redirect is not followed");
}
