//! Posting frames to connections through the API Gateway Management API (the
//! one module that calls it). Delivering to many devices, and forgetting a
//! connection a post finds gone, is the domain's (`messaging::delivery`).

use async_trait::async_trait;

use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use domain::ports::{Delivery, PostOutcome};
use tracing::warn;

/// The API Gateway Management API of the WebSocket stage (`@connections`).
#[derive(Clone)]
pub struct Connections {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl Connections {
    pub fn new(client: aws_sdk_apigatewaymanagement::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Delivery for Connections {
    async fn post(&self, connection_id: &str, payload: &str) -> PostOutcome {
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

    async fn close(&self, connection_id: &str) {
        let result = self.client.delete_connection().connection_id(connection_id).send().await;
        if let Err(e) = result
            && !e.as_service_error().is_some_and(|e| e.is_gone_exception())
        {
            warn!(connection_id, error = %aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e), "could not close connection");
        }
    }
}
