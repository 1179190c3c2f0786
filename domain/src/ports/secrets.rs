//! The secrets port: where the token signing key is kept (Secrets Manager
//! when deployed: `aws_adapters::secrets`).

use async_trait::async_trait;

use crate::error::SecretError;

/// Secret values by id.
#[async_trait]
pub trait Secrets: Send + Sync {
    /// The secret's string value.
    async fn secret_string(&self, secret_id: &str) -> Result<String, SecretError>;
}
