//! The scheduled cleanup: what TTL has not removed yet, found through sparse
//! time-bucket indexes instead of a scan, so a run costs what there is to
//! clean plus a fixed number of small queries.
//!
//! (Inbox entries past their 30 days are TTL's alone: reads skip them until
//! it deletes them, within days and for no write units. An index for this job
//! to find them would have cost every delivery two more writes.)
//!
//! - Connections past API Gateway's 2 hours whose `$disconnect` never came:
//!   the device's connection is cleared and the record deleted (`byConnectBucket`).
//!   (Connections whose post answered 410 are removed by the sender at once.)
//! - Uploads no message took within a day: S3 object and record deleted
//!   (the attachments' `byExpiry`: day × 4 shards). Sent media is kept for
//!   ever, like the messages that carry it.

use serde::Serialize;
use tracing::info;

use crate::config::MAX_CONNECTION_AGE;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids::time_buckets;
use crate::model::{ATTACHMENT_EXPIRY_SHARDS, CONNECT_SHARDS};

/// Days of upload-expiry buckets each run looks back over (runs are hourly;
/// this covers a week of missed runs).
pub const EXPIRY_LOOKBACK_DAYS: u64 = 7;
/// Hours of connection buckets each run looks back over, before the 2-hour limit.
pub const CONNECTION_LOOKBACK_HOURS: u64 = 24;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CleanupReport {
    pub stale_connections: usize,
    pub abandoned_uploads: usize,
}

pub async fn run_cleanup(ctx: &AppContext, now_ms: u64) -> Result<CleanupReport, AppError> {
    let mut report = CleanupReport::default();
    let now_secs = now_ms / 1000;
    let today = now_secs / 86_400;
    let recent_days = today.saturating_sub(EXPIRY_LOOKBACK_DAYS)..=today;
    let cutoff = now_ms.saturating_sub(MAX_CONNECTION_AGE.as_millis() as u64);
    let last_hour = cutoff / 3_600_000;
    for bucket in time_buckets(last_hour.saturating_sub(CONNECTION_LOOKBACK_HOURS)..=last_hour, CONNECT_SHARDS) {
        for record in ctx.store.connections_of_connect_bucket(&bucket).await? {
            if record.connected_at >= cutoff {
                continue;
            }
            // Last seen when API Gateway closed it at the latest.
            let closed_by = record.connected_at + MAX_CONNECTION_AGE.as_millis() as u64;
            ctx.store.clear_device_connection(&record.user_id, &record.device_id, &record.connection_id, closed_by).await?;
            ctx.store.delete_connection(&record.connection_id).await?;
            report.stale_connections += 1;
        }
    }
    let mut abandoned = Vec::new();
    for bucket in time_buckets(recent_days, ATTACHMENT_EXPIRY_SHARDS) {
        abandoned.extend(ctx.store.abandoned_attachments(&bucket, now_secs).await?);
    }
    report.abandoned_uploads = crate::media::delete_abandoned(ctx, &abandoned).await?;

    info!(abandoned_uploads = report.abandoned_uploads, stale_connections = report.stale_connections, "cleanup finished");
    Ok(report)
}
