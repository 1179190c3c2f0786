//! Scheduled cleanup (EventBridge schedule): removes what TTL has not yet —
//! expired inbox entries and connections past API Gateway's 2-hour limit.

use std::sync::Arc;

use domain::AppContext;
use domain::retention::{CleanupReport, run_cleanup};
use serde_json::Value;
use transport::lambda::HandlerError;

/// The scheduled event carries nothing the job needs: it works from the clock.
pub async fn handle(ctx: Arc<AppContext>, _event: Value) -> Result<CleanupReport, HandlerError> {
    Ok(run_cleanup(&ctx, domain::time::now_millis()).await?)
}
