//! Clients of other services, and what every outbound call shares: no
//! redirects are followed, and answers are read into a bounded buffer.

pub mod auth_service;
pub mod circuit_breaker;
pub mod username_refresh;

/// Why an answer's body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("reading the body failed: {0}")]
    Read(#[from] reqwest::Error),
    /// The body is larger than the cap (its content is never logged).
    #[error("the body is larger than {cap} bytes")]
    TooLarge { cap: usize },
}

impl BodyError {
    /// Whether reading again may succeed (a timeout mid-body).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Read(error) if error.is_timeout())
    }
}

/// Reads `response`'s body, chunk by chunk, refusing it as soon as it
/// grows past `cap` bytes (or announces more in `Content-Length`), so an
/// oversized answer never sits in memory whole.
pub async fn read_bounded(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > cap as u64)
    {
        return Err(BodyError::TooLarge { cap });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge { cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
