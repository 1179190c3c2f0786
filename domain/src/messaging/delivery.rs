//! Delivering a frame to devices' live connections, with bounded
//! concurrency. A post answered 410 Gone means API Gateway closed the
//! connection without our `$disconnect` noticing: the stale record is removed.

use futures::StreamExt;
use futures::stream;
use tracing::warn;

use crate::context::AppContext;
use crate::ports::{PostOutcome, Target};

/// Posts the same payload to each item's connection, at most
/// `fanout_concurrency` at a time, and hands back each item with its outcome.
pub async fn post_each<T: Send>(ctx: &AppContext, items: Vec<T>, connection_id: fn(&T) -> &str, payload: &str) -> Vec<(PostOutcome, T)> {
    // Owned items: borrowing them into the stream trips the compiler's
    // higher-ranked lifetime check when the future must be Send.
    stream::iter(items)
        .map(|item| async move { (ctx.connections.post(connection_id(&item), payload).await, item) })
        .buffer_unordered(ctx.config.fanout_concurrency)
        .collect()
        .await
}

/// Posts the same payload to every target; returns how many were delivered.
/// Undelivered devices still have the message in their inbox.
pub async fn post_to_all(ctx: &AppContext, targets: &[Target], payload: &str) -> usize {
    let outcomes = post_each(ctx, targets.to_vec(), |target| &target.connection_id, payload).await;
    let mut delivered = 0;
    for (outcome, target) in outcomes {
        match outcome {
            PostOutcome::Delivered => delivered += 1,
            PostOutcome::Gone => forget_connection(ctx, &target).await,
            PostOutcome::Failed => {}
        }
    }
    delivered
}

/// API Gateway answers 410 for a connection whose `$connect` has not finished
/// yet, though `$connect` already recorded it. A 410 therefore clears only a
/// connection older than the longest `$connect` could take.
pub const CONNECT_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Removes a connection API Gateway no longer has. Best effort: TTL and the
/// 2-hour age check cover what this misses.
pub async fn forget_connection(ctx: &AppContext, target: &Target) {
    let now = crate::time::now_millis();
    let connected_before = now.saturating_sub(CONNECT_GRACE.as_millis() as u64);
    let cleared =
        ctx.store.clear_stale_device_connection(&target.user_id, &target.device_id, &target.connection_id, connected_before, now).await;
    match cleared {
        Ok(true) => {
            if let Err(e) = ctx.store.delete_connection(&target.connection_id).await {
                warn!(connection_id = %target.connection_id, error = %e, "could not delete stale connection record");
            }
        }
        Ok(false) => {}
        Err(e) => warn!(connection_id = %target.connection_id, error = %e, "could not clear stale device connection"),
    }
}
