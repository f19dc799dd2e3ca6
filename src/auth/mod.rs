//! Authentication: verifying the auth-service's JWTs (contract §5) and the
//! [`Viewer`] a request acts as (the mutation guard that checks it is
//! `crate::graphql::guard`).
//!
//! A request without `Authorization` is anonymous; a request with a header
//! that does not verify is refused with `UNAUTHENTICATED`, never treated as
//! anonymous.

pub mod jwks;

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::config::{AuthConfig, Config, DEVELOPMENT_SECRET};
use crate::domain::AuthUserId;
use crate::error::AppError;

use jwks::{JwksCache, JwksSettings};

/// The role that grants admin rights.
pub const ADMIN_ROLE: &str = "admin";

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    Anonymous,
    User(AuthenticatedUser),
}

/// The verified subject of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub id: AuthUserId,
    pub admin: bool,
}

impl Viewer {
    /// The authenticated user, if any.
    pub fn user(&self) -> Option<&AuthenticatedUser> {
        match self {
            Viewer::Anonymous => None,
            Viewer::User(user) => Some(user),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user().is_some_and(|user| user.admin)
    }

    /// Whether the viewer is `id` themself or an admin.
    pub fn acts_for(&self, id: &str) -> bool {
        self.user()
            .is_some_and(|user| user.admin || user.id.as_str() == id)
    }
}

/// Why a token was refused. Never shown to clients in detail.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the Authorization header is not `Bearer <token>`")]
    Malformed,
    #[error("token rejected: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("token subject is missing or not a valid authUserId")]
    BadSubject,
    #[error("no verification key for this token")]
    UnknownKey,
    #[error("the registered claim `{0}` has the wrong type")]
    BadClaimType(&'static str),
}

impl From<TokenError> for AppError {
    fn from(error: TokenError) -> Self {
        tracing::debug!(%error, "refused token");
        AppError::Unauthenticated("invalid or expired token")
    }
}

/// Where verification keys come from.
#[derive(Clone)]
enum KeySource {
    /// The shared HMAC secret.
    Secret(DecodingKey),
    /// The auth-service's JWKS.
    Jwks(Arc<JwksCache>),
}

/// Verifies tokens with the configured key and rules.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: KeySource,
    validation: Validation,
    user_claim: String,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("algorithms", &self.validation.algorithms)
            .field("user_claim", &self.user_claim)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// The verifier `config` asks for: keys from the JWKS at
    /// `AUTH_JWKS_URL` when set, else the shared `secret`.
    pub fn from_config(config: &AuthConfig, secret: &SecretString) -> Result<Self, reqwest::Error> {
        let Some(url) = &config.auth_jwks_url else {
            return Ok(Self::new(config, secret));
        };
        let cache = JwksCache::new(JwksSettings {
            url: url.clone(),
            algorithm: config.algorithm(),
            timeout: config.auth_jwks_timeout.max(Duration::from_millis(1)),
            min_refresh: config.auth_jwks_min_refresh,
            ttl: config.auth_jwks_ttl.max(Duration::from_secs(1)),
        })?;
        Ok(Self {
            keys: KeySource::Jwks(Arc::new(cache)),
            ..Self::new(config, secret)
        })
    }

    /// A verifier for HMAC tokens signed with `secret`.
    pub fn new(config: &AuthConfig, secret: &SecretString) -> Self {
        let algorithm = config.algorithm();
        let mut validation = Validation::new(algorithm);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 30;
        // RFC 8725 §3.9: a configured issuer or audience is required, not
        // merely checked when present.
        let mut required = vec!["exp"];
        match &config.jwt_issuer {
            Some(issuer) => {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &config.jwt_audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        Self {
            keys: KeySource::Secret(DecodingKey::from_secret(secret.expose_secret().as_bytes())),
            validation,
            user_claim: config.jwt_user_claim.clone(),
        }
    }

    /// The viewer of a request with these headers.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Viewer, TokenError> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Ok(Viewer::Anonymous);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or(TokenError::Malformed)?;
        self.verify(token).await.map(Viewer::User)
    }

    /// Verifies one token. Its `alg` must be the pinned algorithm, checked
    /// before any key is looked up (no algorithm confusion, and no JWKS
    /// download for a token that cannot pass).
    pub async fn verify(&self, token: &str) -> Result<AuthenticatedUser, TokenError> {
        let header = jsonwebtoken::decode_header(token)?;
        if !self.validation.algorithms.contains(&header.alg) {
            return Err(TokenError::Invalid(
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm.into(),
            ));
        }
        let key = match &self.keys {
            KeySource::Secret(key) => key.clone(),
            KeySource::Jwks(cache) => cache.key(header.kid.as_deref()).await?,
        };
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &self.validation)?;
        check_registered_claims(&data.claims)?;
        claims_to_user(&data.claims, &self.user_claim)
    }
}

/// Refuses registered claims (RFC 7519 §4.1) of the wrong type, which the
/// JWT library would otherwise skip as if absent (`"nbf": "yesterday"`):
/// `exp`, `nbf` and `iat` must be non-negative numbers (NumericDate), `iss`
/// and `jti` strings, `sub` a string or an integer (taken as its decimal
/// string, contract §5), and `aud` a string or an array of strings.
/// Called after the signature has been verified.
pub fn check_registered_claims(claims: &Map<String, Value>) -> Result<(), TokenError> {
    // Representable as the library's u64 seconds: anything else it would
    // silently treat as absent.
    let numeric_date = |value: &Value| {
        value
            .as_f64()
            .is_some_and(|at| at.is_finite() && at >= 0.0 && at < u64::MAX as f64)
    };
    for (name, value) in claims {
        let well_typed = match name.as_str() {
            "exp" | "nbf" | "iat" => numeric_date(value),
            "iss" | "jti" => value.is_string(),
            "sub" => value.is_string() || value.is_i64() || value.is_u64(),
            "aud" => match value {
                Value::String(_) => true,
                Value::Array(items) => items.iter().all(Value::is_string),
                _ => false,
            },
            _ => true,
        };
        if !well_typed {
            return Err(TokenError::BadClaimType(claim_label(name)));
        }
    }
    Ok(())
}

/// A registered claim's name, as a static label for the log.
fn claim_label(name: &str) -> &'static str {
    match name {
        "exp" => "exp",
        "nbf" => "nbf",
        "iat" => "iat",
        "iss" => "iss",
        "jti" => "jti",
        "sub" => "sub",
        "aud" => "aud",
        _ => "other",
    }
}

/// Why the token settings cannot start the service.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "APP_ENV=production refuses the public development secret: set JWT_SECRET to a secret of your own"
    )]
    DevelopmentSecret,
}

/// The token rules production adds at start-up: the public development
/// secret is refused even though it passes the length check, and a warning
/// is logged when neither `JWT_ISSUER` nor `JWT_AUDIENCE` is set (any token
/// signed with the key is then accepted, whoever it was issued for).
pub fn check_production(config: &Config) -> Result<(), StartupError> {
    if !config.is_production() {
        return Ok(());
    }
    let hmac = matches!(
        config.auth.algorithm(),
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    );
    let development_secret = config
        .auth
        .secret()
        .is_none_or(|secret| secret.expose_secret().as_bytes() == DEVELOPMENT_SECRET.as_bytes());
    if hmac && development_secret {
        return Err(StartupError::DevelopmentSecret);
    }
    if config.auth.jwt_issuer.is_none() && config.auth.jwt_audience.is_none() {
        tracing::warn!(
            "neither JWT_ISSUER nor JWT_AUDIENCE is set: any token signed with the key is accepted, whoever it was issued for"
        );
    }
    Ok(())
}

/// Reads the user id and roles out of verified claims.
pub fn claims_to_user(
    claims: &Map<String, Value>,
    user_claim: &str,
) -> Result<AuthenticatedUser, TokenError> {
    let id = match claims.get(user_claim) {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(id)) if id.is_u64() || id.is_i64() => id.to_string(),
        _ => return Err(TokenError::BadSubject),
    };
    let id = AuthUserId::parse(&id).map_err(|_| TokenError::BadSubject)?;
    let admin = claims
        .get("roles")
        .and_then(Value::as_array)
        .is_some_and(|roles| roles.iter().any(|role| role.as_str() == Some(ADMIN_ROLE)));
    Ok(AuthenticatedUser { id, admin })
}

/// What goes into a minted token.
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    pub subject: &'a str,
    pub admin: bool,
    pub ttl: Duration,
    pub issuer: Option<&'a str>,
    pub audience: Option<&'a str>,
}

/// Signs an HS256 token, for the `token` subcommand and for tests.
pub fn mint(secret: &SecretString, request: &TokenRequest<'_>) -> Result<String, TokenError> {
    let now = chrono::Utc::now().timestamp();
    let mut claims = Map::new();
    claims.insert("sub".into(), request.subject.into());
    claims.insert("iat".into(), now.into());
    let ttl = i64::try_from(request.ttl.as_secs()).unwrap_or(i64::MAX / 2);
    claims.insert("exp".into(), now.saturating_add(ttl).into());
    let roles: Vec<Value> = if request.admin {
        vec![ADMIN_ROLE.into()]
    } else {
        Vec::new()
    };
    claims.insert("roles".into(), roles.into());
    if let Some(issuer) = request.issuer {
        claims.insert("iss".into(), issuer.into());
    }
    if let Some(audience) = request.audience {
        claims.insert("aud".into(), audience.into());
    }
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )?;
    Ok(token)
}
