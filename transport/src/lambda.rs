//! What every function's runtime shares (`functions::runtime` deployed, the
//! local runtime in process): JSON logs, a log line per invocation with the
//! AWS calls it made, and a stream consumer's partial-batch answer.

use std::future::Future;
use std::time::Duration;

use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use tokio::time::Instant;
use tracing::info;

use aws_adapters::calls::AwsCalls;
use domain::error::AppError;

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

tokio::task_local! {
    /// When Lambda stops the current invocation (its context's deadline).
    static DEADLINE: Instant;
}

/// Runs one invocation that Lambda stops at `deadline`, so the handlers in it
/// can answer before (see [`time_left`]).
pub async fn with_deadline<F: Future>(deadline: Instant, invocation: F) -> F::Output {
    DEADLINE.scope(deadline, invocation).await
}

/// The Lambda context's deadline (milliseconds since the epoch) as an instant.
pub fn deadline_of(deadline_epoch_ms: u64) -> Instant {
    let left = deadline_epoch_ms.saturating_sub(domain::time::now_millis());
    Instant::now() + Duration::from_millis(left)
}

/// Time until the current invocation is stopped, if it runs under one.
fn time_left() -> Option<Duration> {
    DEADLINE.try_with(|deadline| deadline.saturating_duration_since(Instant::now())).ok()
}

/// How long before its deadline a route gives up and answers: enough to
/// serialise and return the answer, a tenth of the time for short timeouts.
fn answer_margin(left: Duration) -> Duration {
    (left / 10).min(Duration::from_secs(1))
}

/// Runs a route's operation so that it answers before the invocation's
/// deadline: past [`answer_margin`] before it, the operation is dropped and
/// the answer is [`AppError::OutOfTime`] (retryable, with the request's id),
/// instead of Lambda's timeout, which gets the client API Gateway's
/// `Internal server error` without one. Dropping it is what a timeout does
/// anyway; every operation is safe to retry with the same ids.
pub async fn before_deadline<T>(operation: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    match time_left() {
        Some(left) => tokio::time::timeout(left.saturating_sub(answer_margin(left)), operation).await.unwrap_or(Err(AppError::OutOfTime)),
        None => operation.await,
    }
}
