//! The local Lambda service: the template's functions, each with its own
//! context (configuration, and AWS clients signed as its own role), invoked as
//! Lambda invokes them — the 6 MB payload limit on request and response, the
//! function's `Timeout` — and every invocation logged with the AWS calls it
//! made. The WebSocket gateway, the HTTP API, the stream pollers and the
//! schedules all invoke through this one host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_adapters::calls::{self, AwsCalls};
use domain::AppContext;
use serde::Serialize;
use serde_json::Value;
use transport::lambda::log_invocation;

use functions::registry::Function;

use crate::handlers;
use crate::processes::{ProcessOutcome, ProcessPool};

/// A function from the template, ready to invoke.
pub struct LocalFunction {
    pub logical_id: String,
    /// Its row of the registry (the template's `Handler`).
    pub function: &'static Function,
    pub ctx: Arc<AppContext>,
    /// The AWS configuration its clients were built from (its own
    /// credentials, through the IAM proxy), for tests that call AWS as it.
    pub sdk: aws_config::SdkConfig,
    /// The template's `Timeout`: an invocation past it is cut off.
    pub timeout: Duration,
    /// The template's `MemorySize` (MB): what Lambda bills each millisecond at.
    pub memory_mb: u64,
    /// Its execution environments when it runs as its own process (see
    /// `processes`); `None` runs the handler in this process.
    pub processes: Option<ProcessPool>,
}

/// Lambda's limit on a synchronous invocation's request and response payloads.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// How many bytes a payload is as JSON, counted without building the text.
fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// One handler invocation, with the AWS calls it made.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub function: String,
    pub route_key: String,
    pub connection_id: String,
    /// Stream records in the event (stream invocations only).
    pub records: usize,
    pub calls: AwsCalls,
    pub duration: Duration,
    /// The function's `MemorySize` (MB).
    pub memory_mb: u64,
    /// The Lambda error, when the invocation failed (a timeout, a payload
    /// over the limit, a handler error).
    pub error: Option<String>,
    /// With functions as processes: the cold start this invocation waited
    /// for (process start to its first `/next`), if it started an environment.
    pub init: Option<Duration>,
    /// With functions as processes: its environment's peak resident memory (kB).
    pub peak_rss_kb: Option<u64>,
}

impl Invocation {
    /// What Lambda bills: the duration (and, since August 2025, a cold
    /// start's init) rounded up to the millisecond, times the configured
    /// memory, in GB-seconds.
    pub fn gb_seconds(&self) -> f64 {
        let billed = self.duration + self.init.unwrap_or_default();
        let billed_ms = billed.as_micros().div_ceil(1000) as f64;
        billed_ms / 1000.0 * self.memory_mb as f64 / 1024.0
    }
}

/// The functions of the template, and the log of their invocations.
pub struct LambdaHost {
    functions: HashMap<String, LocalFunction>,
    invocations: Mutex<Vec<Invocation>>,
}

impl LambdaHost {
    pub fn new(functions: HashMap<String, LocalFunction>) -> Self {
        Self { functions, invocations: Mutex::default() }
    }

    pub fn function(&self, logical_id: &str) -> Option<&LocalFunction> {
        self.functions.get(logical_id)
    }

    pub fn has(&self, logical_id: &str) -> bool {
        self.functions.contains_key(logical_id)
    }

    /// How long `function`'s cold start takes on its own (process start to
    /// its first `/next`), when functions run as processes.
    pub async fn cold_start(&self, function: &str) -> Option<Result<Duration, String>> {
        Some(self.functions.get(function)?.processes.as_ref()?.cold_start().await)
    }

    /// Every invocation so far, oldest first.
    pub fn invocations(&self) -> Vec<Invocation> {
        self.invocations.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// Invokes `function` with `event` (any event type: it is sent as JSON);
    /// `source` (a route key, `stream`, `schedule`) and `connection_id` label
    /// the invocation in the log. The error is Lambda's error message.
    pub async fn invoke(&self, function: &str, source: &str, connection_id: &str, event: impl Serialize) -> Result<Value, String> {
        let event = serde_json::to_value(event).map_err(|e| format!("event does not serialise: {e}"))?;
        let function = self.functions.get(function).ok_or_else(|| format!("no local handler for {function}"))?;
        let started = Instant::now();
        let records = event.get("Records").and_then(Value::as_array).map_or(0, Vec::len);
        let size = json_size(&event);
        let limit = function.timeout;
        let (mut init, mut peak_rss_kb) = (None, None);
        let (result, calls) = if size > MAX_PAYLOAD_BYTES {
            // Lambda refuses the invocation before any code runs.
            let refused = format!(
                "RequestEntityTooLargeException: request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation ({size} bytes)"
            );
            (Err(refused), Default::default())
        } else if let Some(processes) = &function.processes {
            let outcome: ProcessOutcome = processes.invoke(&event, limit).await;
            (init, peak_rss_kb) = (outcome.init, outcome.peak_rss_kb);
            (outcome.result, outcome.calls)
        } else {
            // Lambda stops an invocation at its timeout; dropping the future stops it here.
            let invocation = handlers::invoke(function.function, function.ctx.clone(), event);
            let deadline = tokio::time::Instant::now() + limit;
            match tokio::time::timeout(limit, calls::track(transport::lambda::with_deadline(deadline, invocation))).await {
                Ok(done) => done,
                Err(_) => (Err(format!("Task timed out after {:.2} seconds", limit.as_secs_f64())), Default::default()),
            }
        };
        let result = result.and_then(|response| {
            let size = json_size(&response);
            if size > MAX_PAYLOAD_BYTES {
                Err(format!("Response payload size ({size} bytes) exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."))
            } else {
                Ok(response)
            }
        });
        if function.processes.is_none() {
            // A process logs its own.
            log_invocation(&function.logical_id, &calls);
        }
        if let Ok(mut log) = self.invocations.lock() {
            log.push(Invocation {
                function: function.logical_id.clone(),
                route_key: source.to_owned(),
                connection_id: connection_id.to_owned(),
                records,
                calls,
                duration: started.elapsed().saturating_sub(init.unwrap_or_default()),
                memory_mb: function.memory_mb,
                error: result.as_ref().err().cloned(),
                init,
                peak_rss_kb,
            });
        }
        result
    }
}
