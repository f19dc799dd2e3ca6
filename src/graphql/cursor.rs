//! Opaque, tamper-evident pagination cursors: the position (the last
//! `authUserId` of a page) and an HMAC-SHA256 tag over the position and the
//! search term, so a forged cursor, or one from another search, is refused
//! with `BAD_USER_INPUT`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::domain::AuthUserId;
use crate::error::AppError;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the tag kept in a cursor.
const TAG_LEN: usize = 16;

/// Signs and checks cursors with a key derived from the service secret.
pub struct CursorKey(Vec<u8>);

impl CursorKey {
    /// The key for `config`: derived from the configured secret; without
    /// one (JWKS-only set-ups) a random key per process, so cursors cannot
    /// be forged with the public development secret (they then do not
    /// survive a restart, and a stale one is refused like a forged one).
    pub fn for_config(config: &crate::config::Config) -> Self {
        match config.auth.secret() {
            Some(secret) => Self::derive(secret),
            None if config.is_production() => {
                let mut key = vec![0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
                Self(key)
            }
            None => Self::derive(&config.effective_secret()),
        }
    }

    /// A key derived from `secret` for cursors only.
    pub fn derive(secret: &SecretString) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"user-service pagination cursor v1");
        Self(mac.finalize().into_bytes().to_vec())
    }

    fn mac(&self, scope: &str, position: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(position.as_bytes());
        mac
    }

    /// The cursor after `position` in the listing named by `scope`.
    pub fn encode(&self, scope: &str, position: &AuthUserId) -> String {
        self.encode_position(scope, position.as_str())
    }

    /// The position a cursor stands for, if it is one of ours for `scope`.
    pub fn decode(&self, scope: &str, cursor: &str) -> Result<AuthUserId, AppError> {
        let position = self.decode_position(scope, cursor)?;
        AuthUserId::parse(&position).map_err(|_| invalid_cursor())
    }

    /// The cursor after `position` (any text) in the listing named by `scope`.
    pub fn encode_position(&self, scope: &str, position: &str) -> String {
        let tag = self.mac(scope, position).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(position),
            URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN])
        )
    }

    /// The position text a cursor stands for, if it is one of ours for
    /// `scope`; `BAD_USER_INPUT` (field `after`) otherwise.
    pub fn decode_position(&self, scope: &str, cursor: &str) -> Result<String, AppError> {
        let invalid = invalid_cursor;
        let (position, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let position = URL_SAFE_NO_PAD.decode(position).map_err(|_| invalid())?;
        let position = String::from_utf8(position).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        if tag.len() != TAG_LEN {
            return Err(invalid());
        }
        self.mac(scope, &position)
            .verify_truncated_left(&tag)
            .map_err(|_| invalid())?;
        Ok(position)
    }
}

fn invalid_cursor() -> AppError {
    AppError::invalid("after", "the cursor is not valid for this listing")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CursorKey {
        CursorKey::derive(&SecretString::from("a secret".to_owned()))
    }

    #[test]
    fn a_cursor_round_trips() {
        let id = AuthUserId::parse("user-42").unwrap();
        let cursor = key().encode("ada", &id);
        assert_eq!(key().decode("ada", &cursor).unwrap(), id);
    }

    #[test]
    fn tampered_foreign_and_garbage_cursors_are_refused() {
        let cursor = key().encode("ada", &AuthUserId::parse("user-42").unwrap());
        let (_, tag) = cursor.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("user-43"));
        for bad in [forged.as_str(), "garbage", "", "a.b", &cursor[1..]] {
            assert!(key().decode("ada", bad).is_err(), "{bad:?}");
        }
        assert!(key().decode("bob", &cursor).is_err(), "another search");
        let other_key = CursorKey::derive(&SecretString::from("other".to_owned()));
        assert!(other_key.decode("ada", &cursor).is_err(), "another key");
    }
}
