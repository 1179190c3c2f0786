//! The token signing key, read through the secrets port (Secrets Manager). The key
//! never sits in an environment variable; the two authorizers (the only
//! functions allowed `secretsmanager:GetSecretValue` on it) read it on their
//! first invocation and keep it for the life of the container.

use crate::AppContext;
pub use crate::error::{MIN_KEY_BYTES, SecretError};

/// The signing key, as kept in the secret's `SecretString`.
pub fn check_key(key: &str) -> Result<&str, SecretError> {
    if key.len() < MIN_KEY_BYTES { Err(SecretError::TooShort) } else { Ok(key) }
}

impl AppContext {
    /// The token signing key, read once per container.
    pub async fn signing_key(&self) -> Result<&str, SecretError> {
        let key = self
            .signing_key
            .get_or_try_init(|| async {
                let arn = self.config.jwt_secret_arn.as_deref().ok_or(SecretError::NotConfigured)?;
                let key = self.secrets.secret_string(arn).await?;
                check_key(&key).map(str::to_owned)
            })
            .await?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_refused() {
        assert!(matches!(check_key("short"), Err(SecretError::TooShort)));
        assert_eq!(check_key("0123456789abcdef").unwrap(), "0123456789abcdef");
    }
}
