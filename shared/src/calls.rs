//! Counts the AWS calls each invocation makes, so the per-message budget can be
//! logged in Lambda and checked by tests. An SDK interceptor records every
//! attempt that goes on the wire into the invocation's task-local tally.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

tokio::task_local! {
    static TALLY: Arc<Mutex<AwsCalls>>;
}

/// AWS calls of one invocation, by `Service.Operation`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsCalls(pub BTreeMap<String, u32>);

impl AwsCalls {
    pub fn total(&self) -> u32 {
        self.0.values().sum()
    }

    pub fn count(&self, operation: &str) -> u32 {
        self.0.iter().filter(|(op, _)| op.ends_with(operation)).map(|(_, n)| n).sum()
    }
}

impl fmt::Display for AwsCalls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(op, n)| format!("{op}={n}")).collect();
        f.write_str(&parts.join(","))
    }
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
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(meta) = cfg.load::<Metadata>() else { return Ok(()) };
        let key = format!("{}.{}", meta.service(), meta.name());
        // Outside an invocation (start-up, the local runtime's own calls) nothing is tallied.
        let _ = TALLY.try_with(|tally| {
            if let Ok(mut tally) = tally.lock() {
                *tally.0.entry(key).or_default() += 1;
            }
        });
        Ok(())
    }
}
