//! Counts the AWS calls each invocation makes, so the per-message budget can be
//! logged in Lambda and checked by tests. An SDK interceptor records every
//! attempt that goes on the wire into the invocation's task-local tally.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

tokio::task_local! {
    static TALLY: Arc<Mutex<AwsCalls>>;
}

/// AWS calls of one invocation, by `Service.Operation`, and the wall-clock
/// time during which at least one of them was in flight (so the invocation's
/// own work is its duration minus `waiting`, however many calls overlapped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsCalls {
    pub by_operation: BTreeMap<String, u32>,
    pub waiting: Duration,
    in_flight: u32,
    waiting_since: Option<Instant>,
}

impl AwsCalls {
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

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
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
        _context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<Transmitted>().is_some() {
            let _ = TALLY.try_with(|tally| {
                if let Ok(mut tally) = tally.lock() {
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
