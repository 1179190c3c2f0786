//! Secrets Manager: the one module that calls it (the token signing key).

use async_trait::async_trait;
use domain::ports::Secrets;
use domain::secrets::SecretError;

pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Secrets for SecretsManager {
    async fn secret_string(&self, secret_id: &str) -> Result<String, SecretError> {
        let secret = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| SecretError::Unavailable(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()))?;
        Ok(secret.secret_string().unwrap_or_default().to_owned())
    }
}
