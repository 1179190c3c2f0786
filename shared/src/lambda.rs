//! What every function's `main.rs` shares: JSON logs, the context built once,
//! and a log line per invocation with the AWS calls it made.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::info;

use crate::calls::{self, AwsCalls};
use crate::context::AppContext;

pub type HandlerError = lambda_runtime::Error;

pub fn init_json_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_current_span(false).without_time().try_init();
}

pub fn log_invocation(function: &str, calls: &AwsCalls) {
    info!(function, aws_calls = calls.total(), by_operation = %calls, aws_wait_ms = calls.waiting.as_millis() as u64, read_units = calls.read_units, write_units = calls.write_units, "invocation finished");
}

/// A stream consumer's answer naming the records Lambda should retry (by
/// sequence number); the batch's other records count as processed.
pub fn retry_records(sequence_numbers: impl IntoIterator<Item = String>) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for sequence_number in sequence_numbers {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(sequence_number);
        response.batch_item_failures.push(failure);
    }
    response
}

/// One invocation, its AWS calls counted and logged. Boxed: handler futures
/// are deep enough to overflow the compiler's layout recursion limit when
/// nested inside the runtime's own.
async fn tracked<R>(
    function: &'static str,
    invocation: Pin<Box<dyn Future<Output = Result<R, HandlerError>> + Send>>,
) -> Result<R, HandlerError> {
    let (output, calls) = calls::track(invocation).await;
    log_invocation(function, &calls);
    output
}

/// Runs a handler under `lambda_runtime`, counting its AWS calls per invocation.
pub async fn serve<E, R, F, Fut>(function: &'static str, handler: F) -> Result<(), lambda_runtime::Error>
where
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    F: Fn(Arc<AppContext>, E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, HandlerError>> + Send + 'static,
{
    init_json_logs();
    let ctx = AppContext::from_env().await?;
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<E>| {
        let ctx = ctx.clone();
        tracked(function, Box::pin(handler(ctx, event.payload)))
    }))
    .await
}

/// Runs an HTTP API handler under `lambda_http`, counting its AWS calls per invocation.
pub async fn serve_http<F, Fut>(function: &'static str, handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Arc<AppContext>, lambda_http::Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<crate::http::HttpResponse, HandlerError>> + Send + 'static,
{
    init_json_logs();
    let ctx = AppContext::from_env().await?;
    let handler = &handler;
    lambda_http::run(lambda_http::service_fn(move |request: lambda_http::Request| {
        let ctx = ctx.clone();
        tracked(function, Box::pin(handler(ctx, request)))
    }))
    .await
}
