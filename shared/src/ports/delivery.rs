//! The delivery port: posting frames to live connections (the API Gateway
//! Management API when deployed: `fanout`).

use async_trait::async_trait;

pub use crate::fanout::PostOutcome;

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
