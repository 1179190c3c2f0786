//! Functions as processes, the way Lambda runs them: each function's own
//! binary (its `bootstrap`) started in an execution environment of its own,
//! polling a Runtime API (`/2018-06-01/runtime/...`) for one invocation at a
//! time. A function scales out by starting more environments (each a cold
//! start) and keeps the idle ones warm.
//!
//! Why not an existing emulator: cargo-lambda's (`cargo lambda watch`) is a
//! command that builds and runs functions itself, not a library a host can
//! embed, and does not apply the template's `Timeout` or `MemorySize`; AWS's
//! Runtime Interface Emulator runs one function per container; the
//! `lambda-simulator` crate serves one environment and does not enforce
//! timeouts. The Runtime API is four routes; this module serves them per
//! environment on a port of its own, as Lambda serves `127.0.0.1:9001` in each.
//!
//! What is applied as Lambda applies it:
//! - **Timeout**: an invocation past it fails `Task timed out after N seconds`
//!   and its environment is killed (the next invocation starts a new one).
//! - **MemorySize**: an environment whose peak resident memory (`VmHWM`) went
//!   past it is killed and its invocation fails `Runtime.OutOfMemory`, as
//!   Lambda's would. Checked when the invocation ends (Lambda kills at once;
//!   the result is the same, the timing a little later).
//! - **Init**: the process has 10 s to reach its first `/next`; an init error
//!   or an exit fails the invocation, as `Runtime.ExitError` does.
//! - **Environment**: only what Lambda sets (`AWS_LAMBDA_*`, region, the role's
//!   credentials, the function's `Environment`); nothing of this process's.
//!
//! Each invocation's AWS calls come from the function's own log line
//! (`invocation finished`, written by `transport::lambda`), as they would be read
//! from CloudWatch Logs.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_adapters::calls::AwsCalls;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Lambda gives a runtime this long to initialise.
const INIT_LIMIT: Duration = Duration::from_secs(10);
/// Environments per function at most (Lambda's limit is the account's
/// concurrency; this keeps a local machine responsive).
const MAX_ENVIRONMENTS: usize = 64;
/// How long the function's log line may trail its response on the pipe.
const REPORT_GRACE: Duration = Duration::from_secs(1);

/// What one invocation in a process came to.
pub struct ProcessOutcome {
    pub result: Result<Value, String>,
    pub calls: AwsCalls,
    /// Process start to its first `/next`, when this invocation started an environment.
    pub init: Option<Duration>,
    /// The environment's peak resident memory after the invocation (kB).
    pub peak_rss_kb: Option<u64>,
}

/// Every line the functions' processes printed, as CloudWatch Logs keeps
/// them: (function, line), oldest first — so a test can read what a
/// deployment's logs would hold (the plaintext scan of docs/e2ee.md).
#[derive(Clone, Default)]
pub struct LogLines(Arc<Mutex<std::collections::VecDeque<(String, String)>>>);

/// Lines kept (the oldest go first): a long benchmark prints millions.
const MAX_LOG_LINES: usize = 1_000_000;

impl LogLines {
    fn push(&self, function: &str, line: &str) {
        if let Ok(mut lines) = self.0.lock() {
            if lines.len() == MAX_LOG_LINES {
                lines.pop_front();
            }
            lines.push_back((function.to_owned(), line.to_owned()));
        }
    }

    pub fn all(&self) -> Vec<(String, String)> {
        self.0.lock().map(|lines| lines.iter().cloned().collect()).unwrap_or_default()
    }
}

/// One function's execution environments.
pub struct ProcessPool {
    function: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    memory_mb: u64,
    logs: LogLines,
    idle: Mutex<Vec<Environment>>,
    slots: Semaphore,
}

impl ProcessPool {
    /// `env` is the whole environment the process gets (the Runtime API's
    /// address is added per environment).
    pub fn new(function: String, binary: PathBuf, env: Vec<(String, String)>, memory_mb: u64, logs: LogLines) -> Self {
        Self { function, binary, env, memory_mb, logs, idle: Mutex::default(), slots: Semaphore::new(MAX_ENVIRONMENTS) }
    }

    /// Starts an environment that takes no invocation, and stops it: how long
    /// a cold start takes (process start to its first `/next`) on its own.
    pub async fn cold_start(&self) -> Result<Duration, String> {
        let (environment, init) = Environment::start(&self.function, &self.binary, &self.env, &self.logs).await?;
        drop(environment);
        Ok(init)
    }

    pub async fn invoke(&self, payload: &Value, timeout: Duration) -> ProcessOutcome {
        let failed = |error: String, init| ProcessOutcome { result: Err(error), calls: AwsCalls::default(), init, peak_rss_kb: None };
        let Ok(_slot) = self.slots.acquire().await else { return failed("the function is shutting down".into(), None) };
        let warm = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let (mut environment, init) = match warm {
            Some(environment) => (environment, None),
            None => match Environment::start(&self.function, &self.binary, &self.env, &self.logs).await {
                Ok((environment, init)) => (environment, Some(init)),
                Err(e) => return failed(e, None),
            },
        };
        // A report that came too late for its own invocation is not this one's.
        while environment.reports.try_recv().is_ok() {}
        let deadline_ms = domain::time::now_millis() + timeout.as_millis() as u64;
        let job = Job { request_id: ulid::Ulid::generate().to_string(), deadline_ms, payload: Bytes::from(payload.to_string()) };
        if environment.jobs.send(job).await.is_err() {
            return failed("Runtime exited without providing a reason (Runtime.ExitError)".into(), init);
        }
        let outcome = tokio::time::timeout(timeout, async {
            tokio::select! {
                outcome = environment.outcomes.recv() => outcome,
                status = environment.child.wait() => Some(Outcome::Exited(status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()))),
            }
        })
        .await;
        let (result, reusable) = match outcome {
            // Lambda stops the environment; the next invocation starts another.
            Err(_) => (Err(format!("Task timed out after {:.2} seconds", timeout.as_secs_f64())), false),
            Ok(Some(Outcome::Response(body))) => {
                (serde_json::from_slice(&body).map_err(|e| format!("response is not JSON: {e} (Runtime.InvalidResponse)")), true)
            }
            // A handler error leaves the runtime polling for the next one.
            Ok(Some(Outcome::Error(message))) => (Err(message), true),
            Ok(Some(Outcome::InitError(message))) => (Err(message), false),
            Ok(Some(Outcome::Exited(status))) => (Err(format!("Runtime exited with error: {status} (Runtime.ExitError)")), false),
            Ok(None) => (Err("Runtime exited without providing a reason (Runtime.ExitError)".into()), false),
        };
        let calls = match tokio::time::timeout(REPORT_GRACE, environment.reports.recv()).await {
            Ok(Some(report)) => report,
            _ => AwsCalls::default(),
        };
        let peak_rss_kb = environment.peak_rss_kb();
        let over_memory = peak_rss_kb.is_some_and(|kb| kb > self.memory_mb * 1024);
        let result = if over_memory {
            Err(format!("Runtime exited with error: signal: killed (Runtime.OutOfMemory: {} MB)", self.memory_mb))
        } else {
            result
        };
        if reusable
            && !over_memory
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(environment);
        }
        ProcessOutcome { result, calls, init, peak_rss_kb }
    }
}

struct Job {
    request_id: String,
    deadline_ms: u64,
    payload: Bytes,
}

enum Outcome {
    Response(Bytes),
    Error(String),
    InitError(String),
    Exited(String),
}

/// One execution environment: the process, and the Runtime API it polls.
struct Environment {
    child: Child,
    jobs: mpsc::Sender<Job>,
    outcomes: mpsc::Receiver<Outcome>,
    reports: mpsc::UnboundedReceiver<AwsCalls>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Environment {
    fn drop(&mut self) {
        // Killed before its Runtime API goes, so it never sees the API gone.
        let _ = self.child.start_kill();
        self.server.abort();
    }
}

/// The Runtime API as one environment sees it.
struct RuntimeApi {
    function_arn: String,
    jobs: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    outcomes: mpsc::Sender<Outcome>,
    ready: Mutex<Option<oneshot::Sender<()>>>,
}

impl Environment {
    /// Starts the process and waits for its first `/next`; returns how long that took.
    async fn start(function: &str, binary: &PathBuf, env: &[(String, String)], logs: &LogLines) -> Result<(Self, Duration), String> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| e.to_string())?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let (jobs, job_queue) = mpsc::channel(1);
        let (outcome_sender, mut outcomes) = mpsc::channel(4);
        let (ready, is_ready) = oneshot::channel();
        let api = Arc::new(RuntimeApi {
            function_arn: format!("arn:aws:lambda:us-east-1:{}:function:{function}", crate::aws_conventions::LOCAL_ACCOUNT),
            jobs: tokio::sync::Mutex::new(job_queue),
            outcomes: outcome_sender,
            ready: Mutex::new(Some(ready)),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api);
        let server = tokio::spawn(async move {
            let _ = axum::serve(crate::without_nagle(listener), app).await;
        });
        let started = Instant::now();
        let spawned = Command::new(binary)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                server.abort();
                return Err(format!("{}: {e} (Runtime.InvalidEntrypoint)", binary.display()));
            }
        };
        let (report, reports) = mpsc::unbounded_channel();
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(read_logs(function.to_owned(), stdout, report, logs.clone()));
        }
        // A panic's message; shown while this process lives (an environment
        // left polling when the host exits says so to no one).
        if let Some(stderr) = child.stderr.take() {
            let (function, logs) = (function.to_owned(), logs.clone());
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    logs.push(&function, &line);
                    eprintln!("[{function}] {line}");
                }
            });
        }
        let waited = tokio::time::timeout(INIT_LIMIT, async {
            tokio::select! {
                _ = is_ready => Ok(()),
                Some(Outcome::InitError(message)) = outcomes.recv() => Err(message),
                status = child.wait() => Err(format!(
                    "Runtime exited with error: {} (Runtime.ExitError)",
                    status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())
                )),
            }
        })
        .await;
        let init = started.elapsed();
        let error = match waited {
            Ok(Ok(())) => return Ok((Self { child, jobs, outcomes, reports, server }, init)),
            Ok(Err(e)) => e,
            Err(_) => format!("INIT_REPORT Init Duration: {} ms Phase: init Status: timeout", INIT_LIMIT.as_millis()),
        };
        server.abort();
        Err(error)
    }

    /// The process's peak resident memory so far (kB), from `/proc`.
    fn peak_rss_kb(&self) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

async fn next(State(api): State<Arc<RuntimeApi>>) -> Response {
    if let Some(ready) = api.ready.lock().ok().and_then(|mut r| r.take()) {
        let _ = ready.send(());
    }
    let Some(job) = api.jobs.lock().await.recv().await else { return StatusCode::GONE.into_response() };
    (
        StatusCode::OK,
        [
            ("content-type", "application/json".to_owned()),
            ("lambda-runtime-aws-request-id", job.request_id),
            ("lambda-runtime-deadline-ms", job.deadline_ms.to_string()),
            ("lambda-runtime-invoked-function-arn", api.function_arn.clone()),
            ("lambda-runtime-trace-id", format!("Root=1-{:08x}-000000000000000000000000;Sampled=0", job.deadline_ms / 1000)),
        ],
        job.payload,
    )
        .into_response()
}

async fn respond(State(api): State<Arc<RuntimeApi>>, Path(_id): Path<String>, body: Bytes) -> StatusCode {
    let _ = api.outcomes.send(Outcome::Response(body)).await;
    StatusCode::ACCEPTED
}

/// The message of a runtime's error document (`errorType`, `errorMessage`).
fn error_message(body: &[u8]) -> String {
    let document: Value = serde_json::from_slice(body).unwrap_or_default();
    match document["errorMessage"].as_str() {
        Some(message) => message.to_owned(),
        None => String::from_utf8_lossy(body).into_owned(),
    }
}

async fn fail(State(api): State<Arc<RuntimeApi>>, Path(_id): Path<String>, body: Bytes) -> StatusCode {
    let _ = api.outcomes.send(Outcome::Error(error_message(&body))).await;
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<Arc<RuntimeApi>>, body: Bytes) -> StatusCode {
    let _ = api.outcomes.send(Outcome::InitError(error_message(&body))).await;
    StatusCode::ACCEPTED
}

/// Reads the function's JSON log lines: its per-invocation report becomes the
/// invocation's AWS calls; warnings and errors are shown, the rest only with
/// `RUST_LOG` set (as in-process handlers log).
async fn read_logs(function: String, stdout: tokio::process::ChildStdout, reports: mpsc::UnboundedSender<AwsCalls>, logs: LogLines) {
    let verbose = std::env::var("RUST_LOG").is_ok();
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        logs.push(&function, &line);
        let parsed: Value = serde_json::from_str(&line).unwrap_or_default();
        let fields = &parsed["fields"];
        if fields["message"] == "invocation finished" {
            let _ = reports.send(AwsCalls::from_report(
                fields["by_operation"].as_str().unwrap_or_default(),
                Duration::from_millis(fields["aws_wait_ms"].as_u64().unwrap_or_default()),
                fields["read_units"].as_f64().unwrap_or_default(),
                fields["write_units"].as_f64().unwrap_or_default(),
            ));
        } else if verbose || !matches!(parsed["level"].as_str(), Some("INFO" | "DEBUG" | "TRACE")) {
            eprintln!("[{function}] {line}");
        }
    }
}
