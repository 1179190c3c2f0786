//! The local runtime: runs the SAM template on one machine against local AWS
//! servers (DynamoDB Local; moto for S3, SNS and Secrets Manager). It reads
//! routes, functions, environment, policies, tables, the bucket and the secret
//! from `template.yaml`, creates them, and serves the WebSocket API, its
//! `@connections` Management API and the HTTP API. Every event source invokes
//! through one host (`lambda`, with events of `aws_lambda_events`' types),
//! which runs the handlers in this process or each function as its own process
//! behind a local Lambda Runtime API (`processes`); each function's AWS calls
//! are judged by its own IAM policy.

pub mod aws_conventions;
pub mod aws_proxy;
mod capacity;
pub mod faults;
pub mod gateway;
pub mod handlers;
pub mod http_api;
pub mod iam;
pub mod lambda;
pub mod processes;
pub mod provision;
pub mod streams;
pub mod template;
pub mod web;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use domain::config::{CONNECTIONS_API_URL, Config};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use gateway::{Gateway, Quotas};
pub use lambda::{Invocation, LambdaHost, LocalFunction};
use template::{Template, resolve};

/// Development-only signing key; never used by a deployed stack (which takes
/// `JwtSecret` as a parameter).
pub const DEV_JWT_SECRET: &str = "local-development-secret-not-for-production";
pub const LOCAL_STAGE: &str = "local";

#[derive(Debug, Error)]
pub enum LocalError {
    #[error("template: {0}")]
    Template(String),
    #[error("AWS: {0}")]
    Aws(String),
    #[error("configuration: {0}")]
    Config(#[from] domain::error::ConfigError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("AWS_ENDPOINT_URL is not set: the local runtime only talks to a local AWS server (start one with scripts/dev)")]
    NoLocalEndpoint,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub template: PathBuf,
    pub bind: SocketAddr,
    /// Where the HTTP API listens (its own port, as it is its own API).
    pub http_bind: SocketAddr,
    /// Local tables are named `<prefix>-<LogicalId>`.
    pub table_prefix: String,
    pub jwt_secret: String,
    pub quotas: Quotas,
    /// Template parameters to override (name → value).
    pub parameters: HashMap<String, String>,
    /// Fault injection for the functions' AWS calls (see `faults`); off when `None`.
    pub faults: Option<Arc<faults::Faults>>,
    /// Check every AWS call of a function against its `Policies` (see `iam`); on by default.
    pub enforce_iam: bool,
    /// Where the web app and its dev token endpoint are served (`web`); not served when `None`.
    pub web_bind: Option<SocketAddr>,
    /// Run each function as its own process from the binaries in this
    /// directory (`target/release`, built by `cargo build --release -p
    /// functions --bin bootstrap`) behind a local Lambda Runtime API (see
    /// `processes`); `None` runs the handlers in this process.
    pub processes: Option<PathBuf>,
}

impl Options {
    pub fn new(template: impl Into<PathBuf>) -> Self {
        Self {
            template: template.into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            http_bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            table_prefix: "local".into(),
            jwt_secret: DEV_JWT_SECRET.into(),
            quotas: Quotas::default(),
            parameters: HashMap::new(),
            faults: None,
            enforce_iam: true,
            processes: None,
            web_bind: None,
        }
    }
}

/// The template that ships with this repository.
pub fn repository_template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
}

pub struct LocalRuntime {
    pub address: SocketAddr,
    /// The HTTP API's address (`None` when the template has no HTTP API).
    pub http_address: Option<SocketAddr>,
    /// The web app's address (`None` unless asked for).
    pub web_address: Option<SocketAddr>,
    pub gateway: Arc<Gateway>,
    /// The functions, invoked by the gateway, the HTTP API, the stream pollers and the schedules.
    pub lambda: Arc<LambdaHost>,
    pub jwt_secret: String,
    pub table_prefix: String,
    /// What the functions printed, when they run as processes (CloudWatch Logs' part).
    pub logs: processes::LogLines,
    tasks: Vec<JoinHandle<()>>,
}

/// Accepted sockets send each frame at once (TCP_NODELAY), as API Gateway's
/// do. With Nagle's algorithm a frame written while the previous one is not yet
/// acknowledged waits for the peer's delayed ACK (up to 40 ms on Linux): a
/// message posted right after an ack's reply reached its recipient ~40 ms late.
pub(crate) fn without_nagle(listener: TcpListener) -> axum::serve::TapIo<TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn no_delay(stream: &mut tokio::net::TcpStream) {
        let _ = stream.set_nodelay(true);
    }
    listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream))
}

/// Lambda retries a failed stream batch after a short, growing pause.
pub(crate) async fn backoff_for_retry(attempt: usize) {
    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(5))).await;
}

impl LocalRuntime {
    pub fn websocket_url(&self) -> String {
        format!("ws://{}/{LOCAL_STAGE}", self.address)
    }

    /// Base URL of the HTTP API, stage included, as the deployed `HttpApiUrl` output.
    pub fn http_api_url(&self) -> Option<String> {
        self.http_address.map(|a| format!("http://{a}/{LOCAL_STAGE}"))
    }

    /// The web app's URL, when it is served (`Options::web_bind`).
    pub fn web_url(&self) -> Option<String> {
        self.web_address.map(|a| format!("http://{a}/"))
    }

    pub fn connections_api_url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn invocations(&self) -> Vec<Invocation> {
        self.lambda.invocations()
    }

    /// What API Gateway would have billed the WebSocket API so far.
    pub fn gateway_usage(&self) -> gateway::UsageReading {
        self.gateway.usage()
    }

    /// AWS calls the local IAM refused (empty when IAM is not enforced).
    pub fn iam_denials(&self) -> Vec<iam::Denial> {
        self.gateway.iam.as_ref().map(|iam| iam.denials()).unwrap_or_default()
    }

    pub fn issue_token(&self, user_id: &str, device_id: &str) -> String {
        domain::auth::issue_token(&self.jwt_secret, user_id, device_id, 24 * 3600)
    }

    pub async fn start(options: Options) -> Result<Self, LocalError> {
        let upstreams = aws_proxy::Upstreams::from_env()?;
        let template = Template::load(&options.template)?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let table_defs = template.tables()?;
        provision::ensure_tables(&dynamo, &options.table_prefix, &table_defs).await?;
        provision::ensure_buckets(&sdk, &options.table_prefix, &template.logical_ids_of("AWS::S3::Bucket")).await?;
        let secrets = provision::ensure_secrets(
            &sdk,
            &options.table_prefix,
            &template.logical_ids_of("AWS::SecretsManager::Secret"),
            &options.jwt_secret,
        )
        .await?;
        let mut options = options;
        for (platform, parameter) in [("APNS", "ApnsPlatformApplicationName"), ("GCM", "GcmPlatformApplicationName")] {
            if !options.parameters.contains_key(parameter) && template.is_parameter(parameter) {
                let name = provision::ensure_platform_application(&sdk, &options.table_prefix, platform).await?;
                options.parameters.insert(parameter.to_owned(), name);
            }
        }

        let listener = TcpListener::bind(options.bind).await?;
        let address = listener.local_addr()?;
        let connections_api_url = format!("http://{address}");

        let region = sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
        // What each `!Ref`, `${...}` and `!GetAtt` in the template stands for locally.
        let lookup = |name: &str| -> Option<String> {
            let (name, attribute) = match name.split_once('.') {
                Some((name, attribute)) => (name, Some(attribute)),
                None => (name, None),
            };
            match (template.resource_type(name), attribute) {
                (Some("AWS::DynamoDB::Table"), Some("Arn")) => {
                    return Some(format!(
                        "arn:aws:dynamodb:{region}:{}:table/{}",
                        aws_conventions::LOCAL_ACCOUNT,
                        provision::local_table_name(&options.table_prefix, name)
                    ));
                }
                (Some("AWS::S3::Bucket"), Some("Arn")) => {
                    return Some(format!("arn:aws:s3:::{}", provision::local_bucket_name(&options.table_prefix, name)));
                }
                (_, Some(other)) if other != "Arn" => return None,
                _ => {}
            }
            if let Some(value) = options.parameters.get(name) {
                return Some(value.clone());
            }
            if template.is_parameter(name) {
                return template.parameter_default(name);
            }
            match name {
                "AWS::Region" => Some(region.clone()),
                "AWS::AccountId" => Some(aws_conventions::LOCAL_ACCOUNT.into()),
                "AWS::Partition" => Some("aws".into()),
                "AWS::URLSuffix" => Some("amazonaws.com".into()),
                "AWS::StackName" => Some(options.table_prefix.clone()),
                _ => match template.resource_type(name) {
                    Some("AWS::DynamoDB::Table") => Some(provision::local_table_name(&options.table_prefix, name)),
                    Some("AWS::S3::Bucket") => Some(provision::local_bucket_name(&options.table_prefix, name)),
                    Some("AWS::SecretsManager::Secret") => secrets.get(name).cloned(),
                    Some(_) => Some(format!("local-{name}")),
                    None => None,
                },
            }
        };

        let mut tasks = Vec::new();
        // Each function's policy, as IAM will judge its calls.
        let function_defs = template.functions()?;
        let iam = if options.enforce_iam {
            let mut iam = iam::Iam::default();
            for function in &function_defs {
                iam.add(&function.logical_id, iam::Policy::from_template(&function.policies, &function.logical_id, &lookup)?);
            }
            Some(Arc::new(iam))
        } else {
            None
        };
        // The functions reach AWS through one proxy: IAM, faults, then the stand-in.
        let (proxy, task) = aws_proxy::start(iam.clone(), options.faults.clone(), upstreams).await?;
        tasks.push(task);
        let secret_access_key = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|_| "test".into());
        let mut functions = HashMap::new();
        let logs = processes::LogLines::default();
        for function in function_defs {
            let registered = functions::registry::find(&function.handler).ok_or_else(|| {
                LocalError::Template(format!("{}: no function {} in the registry", function.logical_id, function.handler))
            })?;
            let mut env = HashMap::new();
            for (name, value) in &function.environment {
                env.insert(name.clone(), resolve(value, &lookup)?);
            }
            // The one deliberate difference: handlers post to this gateway, not AWS.
            env.insert(CONNECTIONS_API_URL.to_owned(), connections_api_url.clone());
            let config = Config::from_lookup(|name| env.get(name).cloned())?;
            // Its own credentials, as each deployed function has its role's.
            let credentials = aws_sdk_dynamodb::config::Credentials::new(
                iam::access_key_id(&function.logical_id),
                secret_access_key.clone(),
                None,
                None,
                "local-function-role",
            );
            let function_sdk = sdk
                .to_builder()
                .service_config(aws_proxy::ThroughProxy(proxy.clone()))
                .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(credentials))
                .build();
            let ctx = Arc::new(functions::wiring::on_aws(config, &function_sdk));
            let processes = match &options.processes {
                Some(directory) => {
                    let binary = directory.join(&function.binary);
                    if !binary.is_file() {
                        return Err(LocalError::Template(format!(
                            "no binary {} for {} (build with: cargo build --release -p functions --bin {})",
                            binary.display(),
                            function.logical_id,
                            function.binary
                        )));
                    }
                    // What Lambda sets in an environment, and the function's own variables.
                    let mut process_env: Vec<(String, String)> = env.clone().into_iter().collect();
                    process_env.extend(
                        [
                            ("AWS_ENDPOINT_URL", proxy.clone()),
                            ("AWS_REGION", region.clone()),
                            ("AWS_DEFAULT_REGION", region.clone()),
                            ("AWS_ACCESS_KEY_ID", iam::access_key_id(&function.logical_id)),
                            ("AWS_SECRET_ACCESS_KEY", secret_access_key.clone()),
                            // The runtime's handler setting: which registry function the binary serves.
                            ("_HANDLER", function.handler.clone()),
                            ("AWS_LAMBDA_FUNCTION_NAME", function.logical_id.clone()),
                            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", function.memory_mb.to_string()),
                            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
                            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", function.logical_id)),
                            ("AWS_LAMBDA_LOG_STREAM_NAME", "local".into()),
                            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
                            ("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into())),
                        ]
                        .map(|(name, value)| (name.to_owned(), value)),
                    );
                    Some(processes::ProcessPool::new(function.logical_id.clone(), binary, process_env, function.memory_mb, logs.clone()))
                }
                None => None,
            };
            functions.insert(
                function.logical_id.clone(),
                LocalFunction {
                    logical_id: function.logical_id,
                    function: registered,
                    ctx,
                    sdk: function_sdk,
                    timeout: function.timeout,
                    memory_mb: function.memory_mb,
                    processes,
                },
            );
        }

        let lambda = Arc::new(LambdaHost::new(functions));
        let api = template.websocket_api()?;
        for route in &api.routes {
            for function in std::iter::once(&route.function).chain(route.authorizer.as_ref()) {
                if !lambda.has(function) {
                    return Err(LocalError::Template(format!("route {} uses {function}, which is not a function", route.route_key)));
                }
            }
        }
        let mut gateway = Gateway::new(api, lambda.clone(), options.quotas.clone(), LOCAL_STAGE.into(), address.to_string());
        gateway.faults = options.faults.clone();
        gateway.iam = iam;
        gateway.api_id = lookup(&gateway.api.logical_id).unwrap_or_else(|| "local".into());
        gateway.connections_arn = format!(
            "arn:aws:execute-api:{region}:{}:{}/{}",
            aws_conventions::LOCAL_ACCOUNT,
            gateway.api_id,
            template.websocket_stage_name(&gateway.api.logical_id, &lookup)?
        );
        let gateway = Arc::new(gateway);
        let app = gateway.clone().router().into_make_service_with_connect_info::<SocketAddr>();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(without_nagle(listener), app).await {
                tracing::error!(error = %e, "local gateway stopped");
            }
        }));
        for bucket in template.logical_ids_of("AWS::S3::Bucket") {
            let rules = template.bucket_cors(&bucket, &lookup)?;
            if !rules.is_empty() {
                provision::set_bucket_cors(&sdk, &provision::local_bucket_name(&options.table_prefix, &bucket), &rules).await?;
            }
        }
        let mut http_address = None;
        if let Some(http_api) = template.http_api(&lookup)? {
            for function in http_api.routes.iter().map(|r| &r.function).chain(http_api.authorizer.as_ref().map(|a| &a.function)) {
                if !lambda.has(function) {
                    return Err(LocalError::Template(format!("HTTP API uses {function}, which is not a function")));
                }
            }
            let listener = TcpListener::bind(options.http_bind).await?;
            let bound = listener.local_addr()?;
            http_address = Some(bound);
            let http = Arc::new(http_api::HttpGateway::new(http_api, lambda.clone(), LOCAL_STAGE.into(), bound.to_string()));
            let app = http.router().into_make_service_with_connect_info::<SocketAddr>();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(without_nagle(listener), app).await {
                    tracing::error!(error = %e, "local HTTP API stopped");
                }
            }));
        }
        let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
        for source in template.stream_sources()? {
            let table = provision::local_table_name(&options.table_prefix, &source.table);
            let poller = streams::Poller::position(lambda.clone(), dynamo.clone(), streams.clone(), table, region.clone(), source).await?;
            tasks.push(tokio::spawn(poller.run()));
        }
        for schedule in template.schedules()? {
            let lambda = lambda.clone();
            tasks.push(tokio::spawn(async move {
                let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + schedule.every, schedule.every);
                loop {
                    timer.tick().await;
                    if let Err(e) = invoke_scheduled(&lambda, &schedule.function).await {
                        tracing::warn!(function = %schedule.function, error = %e, "scheduled run failed");
                    }
                }
            }));
        }
        let mut web_address = None;
        if let Some(bind) = options.web_bind {
            let websocket_url = format!("ws://{address}/{LOCAL_STAGE}");
            let http_api_url = http_address.map(|a| format!("http://{a}/{LOCAL_STAGE}"));
            let (bound, task) = web::start(bind, websocket_url, http_api_url, options.jwt_secret.clone()).await?;
            web_address = Some(bound);
            tasks.push(task);
        }
        Ok(Self {
            address,
            http_address,
            web_address,
            gateway,
            lambda,
            jwt_secret: options.jwt_secret,
            table_prefix: options.table_prefix,
            logs,
            tasks,
        })
    }

    /// Runs a scheduled function now, as its schedule would (`sam local invoke`-style).
    pub async fn run_scheduled(&self, function: &str) -> Result<serde_json::Value, String> {
        invoke_scheduled(&self.lambda, function).await
    }
}

/// Invokes a function with the event an EventBridge schedule sends. Built as
/// JSON: `aws_lambda_events`' EventBridge type would add `serde_with` to the
/// build, and the scheduled functions read nothing from the event.
async fn invoke_scheduled(lambda: &LambdaHost, function: &str) -> Result<serde_json::Value, String> {
    let now = domain::time::now_millis();
    let event = serde_json::json!({
        "version": "0",
        "id": ulid::Ulid::generate().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": aws_conventions::LOCAL_ACCOUNT,
        "time": aws_conventions::rfc3339(now),
        "region": "us-east-1",
        "resources": [format!("arn:aws:events:us-east-1:{}:rule/local-{function}", aws_conventions::LOCAL_ACCOUNT)],
        "detail": {},
    });
    lambda.invoke(function, "schedule", "", event).await
}

impl Drop for LocalRuntime {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
