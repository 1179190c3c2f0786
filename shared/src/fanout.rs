//! Posting frames to connections through the API Gateway Management API (the
//! one module that calls it), with bounded concurrency. A post answered 410
//! Gone means API Gateway closed the connection without our `$disconnect`
//! noticing: the stale record is removed.

use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures::StreamExt;
use futures::stream;
use tracing::warn;

use crate::context::AppContext;

/// The most the server puts in one WebSocket message, route reply or post:
/// API Gateway delivers at most 128 KB, and this leaves room for the envelope.
pub const MAX_FRAME_BYTES: usize = 96 * 1024;

/// A device's live connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub user_id: String,
    pub device_id: String,
    pub connection_id: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PostOutcome {
    Delivered,
    Gone,
    Failed,
}

/// The API Gateway Management API of the WebSocket stage (`@connections`).
#[derive(Clone)]
pub struct Connections {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl Connections {
    pub fn new(client: aws_sdk_apigatewaymanagement::Client) -> Self {
        Self { client }
    }

    /// Posts one frame. A failure is logged, not returned: the frame is in
    /// the device's inbox either way.
    pub async fn post(&self, connection_id: &str, payload: &str) -> PostOutcome {
        let result = self.client.post_to_connection().connection_id(connection_id).data(Blob::new(payload.as_bytes())).send().await;
        match result {
            Ok(_) => PostOutcome::Delivered,
            Err(e) if e.as_service_error().is_some_and(PostToConnectionError::is_gone_exception) => PostOutcome::Gone,
            Err(e) => {
                warn!(connection_id, error = %aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e), "post to connection failed");
                PostOutcome::Failed
            }
        }
    }

    /// Closes a connection (API Gateway sends the client a close frame and
    /// runs `$disconnect`). A connection already gone is not an error.
    pub async fn close(&self, connection_id: &str) {
        let result = self.client.delete_connection().connection_id(connection_id).send().await;
        if let Err(e) = result
            && !e.as_service_error().is_some_and(|e| e.is_gone_exception())
        {
            warn!(connection_id, error = %aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e), "could not close connection");
        }
    }
}

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
