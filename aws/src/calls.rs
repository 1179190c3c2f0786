//! Counts the AWS calls each invocation makes, so the per-message budget can be
//! logged in Lambda and checked by tests. An SDK interceptor records every
//! attempt that goes on the wire into the invocation's task-local tally, and
//! asks DynamoDB for the capacity each call consumed (`ReturnConsumedCapacity`,
//! the units the bill counts), so every invocation's log line says what it
//! cost in read and write units as DynamoDB reports them.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::operation as ddb;
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextMut, BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

tokio::task_local! {
    static TALLY: Arc<Mutex<AwsCalls>>;
}

/// AWS calls of one invocation, by `Service.Operation`, and the wall-clock
/// time during which at least one of them was in flight (so the invocation's
/// own work is its duration minus `waiting`, however many calls overlapped).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AwsCalls {
    pub by_operation: BTreeMap<String, u32>,
    pub waiting: Duration,
    /// DynamoDB read and write capacity units the successful calls consumed,
    /// as DynamoDB reported them (indexes and transactions included; a
    /// refused conditional write is billed too but reports nothing).
    pub read_units: f64,
    pub write_units: f64,
    in_flight: u32,
    waiting_since: Option<Instant>,
}

impl AwsCalls {
    /// The tally an invocation logged (`log_invocation`'s fields: its
    /// operations as `Service.Operation=n,...`, time waiting, units), read
    /// back from the log line as CloudWatch Logs would hold it.
    pub fn from_report(by_operation: &str, waiting: Duration, read_units: f64, write_units: f64) -> Self {
        let by_operation = by_operation
            .split(',')
            .filter_map(|part| {
                let (operation, count) = part.rsplit_once('=')?;
                Some((operation.to_owned(), count.parse().ok()?))
            })
            .collect();
        Self { by_operation, waiting, read_units, write_units, ..Self::default() }
    }

    pub fn total(&self) -> u32 {
        self.by_operation.values().sum()
    }

    pub fn count(&self, operation: &str) -> u32 {
        self.by_operation.iter().filter(|(op, _)| op.ends_with(operation)).map(|(_, n)| n).sum()
    }
}

impl fmt::Display for AwsCalls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.by_operation.iter().map(|(op, n)| format!("{op}={n}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// Marks, in the attempt's config bag, that the attempt went on the wire.
#[derive(Clone, Debug)]
struct Transmitted;

impl Storable for Transmitted {
    type Storer = StoreReplace<Self>;
}

/// Runs one invocation with its own tally and returns what it called.
pub async fn track<F: Future>(invocation: F) -> (F::Output, AwsCalls) {
    let tally = Arc::new(Mutex::new(AwsCalls::default()));
    let output = TALLY.scope(tally.clone(), invocation).await;
    let calls = tally.lock().map(|t| t.clone()).unwrap_or_default();
    (output, calls)
}

/// Interceptor added to every SDK client the handlers use.
#[derive(Debug, Default)]
pub struct CountCalls;

/// Sets `ReturnConsumedCapacity` on a DynamoDB request; reads it back from
/// its answer (`(read, write)` units).
macro_rules! capacity_of_operations {
    ($(($module:ident, $input:ident, $output:ident, $kind:ident, $shape:ident)),* $(,)?) => {
        fn ask_for_capacity(input: &mut aws_smithy_runtime_api::client::interceptors::context::Input) {
            $(if let Some(input) = input.downcast_mut::<ddb::$module::$input>() {
                input.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
                return;
            })*
        }

        fn capacity_reported(output: &aws_smithy_runtime_api::client::interceptors::context::Output) -> (f64, f64) {
            $(if let Some(output) = output.downcast_ref::<ddb::$module::$output>() {
                let units = capacity_units!($shape, output.consumed_capacity);
                return capacity_split!($kind, units);
            })*
            (0.0, 0.0)
        }
    };
}

macro_rules! capacity_units {
    (one, $field:expr) => {
        $field.as_ref().and_then(ConsumedCapacity::capacity_units).unwrap_or_default()
    };
    (many, $field:expr) => {
        $field.iter().flatten().filter_map(ConsumedCapacity::capacity_units).sum::<f64>()
    };
}

macro_rules! capacity_split {
    (read, $units:expr) => {
        ($units, 0.0)
    };
    (write, $units:expr) => {
        (0.0, $units)
    };
}

capacity_of_operations![
    (get_item, GetItemInput, GetItemOutput, read, one),
    (query, QueryInput, QueryOutput, read, one),
    (scan, ScanInput, ScanOutput, read, one),
    (batch_get_item, BatchGetItemInput, BatchGetItemOutput, read, many),
    (transact_get_items, TransactGetItemsInput, TransactGetItemsOutput, read, many),
    (put_item, PutItemInput, PutItemOutput, write, one),
    (update_item, UpdateItemInput, UpdateItemOutput, write, one),
    (delete_item, DeleteItemInput, DeleteItemOutput, write, one),
    (batch_write_item, BatchWriteItemInput, BatchWriteItemOutput, write, many),
    (transact_write_items, TransactWriteItemsInput, TransactWriteItemsOutput, write, many),
];

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        ask_for_capacity(context.input_mut());
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Presigning runs the pipeline up to here but sends nothing: not a call.
        if context.request().uri().contains("X-Amz-Signature=") {
            return Ok(());
        }
        let Some(meta) = cfg.load::<Metadata>() else { return Ok(()) };
        let key = format!("{}.{}", meta.service(), meta.name());
        // Outside an invocation (start-up, the local runtime's own calls) nothing is tallied.
        let _ = TALLY.try_with(|tally| {
            if let Ok(mut tally) = tally.lock() {
                *tally.by_operation.entry(key).or_default() += 1;
                if tally.in_flight == 0 {
                    tally.waiting_since = Some(Instant::now());
                }
                tally.in_flight += 1;
            }
        });
        cfg.interceptor_state().store_put(Transmitted);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<Transmitted>().is_some() {
            let (read, write) = match context.output_or_error() {
                Some(Ok(output)) => capacity_reported(output),
                _ => (0.0, 0.0),
            };
            let _ = TALLY.try_with(|tally| {
                if let Ok(mut tally) = tally.lock() {
                    tally.read_units += read;
                    tally.write_units += write;
                    tally.in_flight = tally.in_flight.saturating_sub(1);
                    if tally.in_flight == 0
                        && let Some(since) = tally.waiting_since.take()
                    {
                        tally.waiting += since.elapsed();
                    }
                }
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_tally_reads_back_as_it_was() {
        let mut calls = AwsCalls { read_units: 0.5, write_units: 7.0, waiting: Duration::from_millis(12), ..AwsCalls::default() };
        calls.by_operation.insert("DynamoDB.TransactWriteItems".into(), 2);
        calls.by_operation.insert("ApiGatewayManagementApi.PostToConnection".into(), 1);
        let read = AwsCalls::from_report(&calls.to_string(), calls.waiting, calls.read_units, calls.write_units);
        assert_eq!(read, calls);
        assert_eq!(read.count("TransactWriteItems"), 2);
        assert_eq!(AwsCalls::from_report("", Duration::ZERO, 0.0, 0.0).total(), 0);
    }
}
