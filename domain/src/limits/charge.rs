//! Charging a request against its limit: one conditional counter update.

use super::{Limit, Rate};
use crate::context::AppContext;
use crate::error::AppError;
use crate::time::now_millis;

/// Charges `amount` to `subject`'s `limit`, or refuses with `rate_limited`
/// and the seconds until the window ends.
pub async fn charge(ctx: &AppContext, limit: Limit, subject: &str, amount: u64) -> Result<(), AppError> {
    let Rate { max, per } = ctx.config.rate_limits.rate(limit);
    let per_ms = per.as_millis() as u64;
    let now = now_millis();
    let window = now / per_ms;
    let window_end_ms = (window + 1) * per_ms;
    let counter = format!("{}#{subject}#{window}", limit.name());
    let expires_at = (window_end_ms + per_ms) / 1000;
    if ctx.store.charge_counter(&counter, amount, max, expires_at).await? {
        return Ok(());
    }
    let retry_after_secs = window_end_ms.saturating_sub(now).div_ceil(1000).max(1);
    Err(AppError::RateLimited { limit: limit.name(), retry_after_secs })
}
