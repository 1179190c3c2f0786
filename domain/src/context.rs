//! What a function holds for its whole life, outside the handler: the
//! configuration and an adapter for each port. The deployed stack builds it
//! on AWS (`functions::wiring`); the unit tests on in-memory fakes.

use std::sync::Arc;

use crate::config::Config;
use crate::error::AppError;
use crate::limits::{Limit, Rate};
use crate::ports::{Delivery, Media, Push, Secrets, Store};
use crate::time::now_millis;

pub struct AppContext {
    pub config: Config,
    /// The tables (DynamoDB when deployed).
    pub store: Arc<dyn Store>,
    /// Posting to and closing connections (the API Gateway Management API).
    pub connections: Arc<dyn Delivery>,
    /// Mobile push (SNS).
    pub notifier: Arc<dyn Push>,
    /// Media bucket (S3): presigning, upload checks, cleanup.
    pub media: Arc<dyn Media>,
    /// Secrets Manager, for the token signing key (see `secrets`).
    pub secrets: Arc<dyn Secrets>,
    /// The signing key once read.
    pub(crate) signing_key: tokio::sync::OnceCell<String>,
}

impl AppContext {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        delivery: Arc<dyn Delivery>,
        media: Arc<dyn Media>,
        push: Arc<dyn Push>,
        secrets: Arc<dyn Secrets>,
    ) -> Self {
        Self { config, store, connections: delivery, notifier: push, media, secrets, signing_key: tokio::sync::OnceCell::new() }
    }

    /// Charges `amount` to `subject`'s `limit` (one conditional counter
    /// update), or refuses with `rate_limited` and the seconds until the
    /// window ends; a refused request changes nothing else.
    pub async fn charge(&self, limit: Limit, subject: &str, amount: u64) -> Result<(), AppError> {
        let Rate { max, per } = self.config.rate_limits.rate(limit);
        let per_ms = per.as_millis() as u64;
        let now = now_millis();
        let window = now / per_ms;
        let window_end_ms = (window + 1) * per_ms;
        let counter = format!("{}#{subject}#{window}", limit.name());
        let expires_at = (window_end_ms + per_ms) / 1000;
        if self.store.charge_counter(&counter, amount, max, expires_at).await? {
            return Ok(());
        }
        let retry_after_secs = window_end_ms.saturating_sub(now).div_ceil(1000).max(1);
        Err(AppError::RateLimited { limit: limit.name(), retry_after_secs })
    }
}
