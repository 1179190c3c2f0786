//! What every function's runtime shares (`functions::runtime` deployed, the
//! local runtime in process): JSON logs, a log line per invocation with the
//! AWS calls it made, and a stream consumer's partial-batch answer.

use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use tracing::info;

use crate::calls::AwsCalls;

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
