//! The delivery port: posting frames to live connections (the API Gateway
//! Management API when deployed: `fanout`).

use async_trait::async_trait;

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

/// Connections the server can post to and close.
#[async_trait]
pub trait Delivery: Send + Sync {
    /// Posts one frame. A failure is logged, not returned: the frame is in
    /// the device's inbox either way.
    async fn post(&self, connection_id: &str, payload: &str) -> PostOutcome;

    /// Closes a connection (API Gateway sends the client a close frame and
    /// runs `$disconnect`). A connection already gone is not an error.
    async fn close(&self, connection_id: &str);
}
