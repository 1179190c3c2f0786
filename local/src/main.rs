//! `local-runtime serve` runs the WebSocket API and the HTTP API locally;
//! `local-runtime token <user> <device>` prints a development token.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use local_runtime::{DEV_JWT_SECRET, LocalRuntime, Options, repository_template};

#[derive(Parser)]
#[command(name = "local-runtime", about = "The stack of template.yaml on this machine, against DynamoDB Local and moto")]
struct Cli {
    /// The token signing key (the deployed stack's is a Secrets Manager secret).
    #[arg(long, env = "JWT_SECRET", default_value = DEV_JWT_SECRET, hide_default_value = true, global = true)]
    jwt_secret: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the WebSocket API, the HTTP API and the web app.
    Serve {
        /// The WebSocket API's port.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The HTTP API's port [default: PORT + 1].
        #[arg(long)]
        http_port: Option<u16>,
        /// The web app's port [default: PORT + 2].
        #[arg(long)]
        web_port: Option<u16>,
        /// Another template than the repository's.
        #[arg(long)]
        template: Option<PathBuf>,
        /// Skip the local IAM check, to see what a policy change would allow (never in tests).
        #[arg(long)]
        no_iam: bool,
        /// Run each function as its own process from DIR's `bootstrap` (e.g. target/release).
        #[arg(long, value_name = "DIR")]
        processes: Option<PathBuf>,
        /// API Gateway's idle timeout, in seconds [default: 600].
        #[arg(long, env = "LOCAL_WS_IDLE_TIMEOUT_SECS")]
        idle_timeout_secs: Option<u64>,
        /// API Gateway's connection lifetime, in seconds [default: 7200].
        #[arg(long, env = "LOCAL_WS_MAX_CONNECTION_SECS")]
        max_connection_secs: Option<u64>,
    },
    /// Print a development token for a user's device.
    Token {
        user: String,
        device: String,
        /// Hours until it expires.
        #[arg(long, default_value_t = 24)]
        hours: i64,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Token { user, device, hours } => {
            println!("{}", domain::auth::issue_token(&cli.jwt_secret, &user, &device, hours * 3600));
        }
        Command::Serve { port, http_port, web_port, template, no_iam, processes, idle_timeout_secs, max_connection_secs } => {
            transport::lambda::init_json_logs();
            let mut options = Options::new(template.unwrap_or_else(repository_template));
            options.bind = ([127, 0, 0, 1], port).into();
            options.http_bind = ([127, 0, 0, 1], http_port.unwrap_or(port + 1)).into();
            options.web_bind = Some(([127, 0, 0, 1], web_port.unwrap_or(port + 2)).into());
            options.jwt_secret = cli.jwt_secret;
            options.enforce_iam = !no_iam;
            options.processes = processes;
            if let Some(idle) = idle_timeout_secs {
                options.quotas.idle_timeout = Duration::from_secs(idle);
            }
            if let Some(age) = max_connection_secs {
                options.quotas.max_connection_age = Duration::from_secs(age);
            }
            let runtime = match LocalRuntime::start(options).await {
                Ok(runtime) => runtime,
                Err(e) => {
                    eprintln!("local runtime failed to start: {e}");
                    std::process::exit(1);
                }
            };
            println!("WebSocket API:   {}", runtime.websocket_url());
            if let Some(url) = runtime.http_api_url() {
                println!("HTTP API:        {url}  (Authorization: Bearer <token>)");
            }
            if let Some(url) = runtime.web_url() {
                println!("web app:         {url}  (sign in as any user and device)");
            }
            println!("@connections:    {}/@connections/{{id}}", runtime.connections_api_url());
            // The commands by this binary's own folder, as scripts/dev prints
            // them (not `cargo run`, which would build first): pasteable as is.
            let me = std::env::current_exe().ok();
            let folder = me.as_deref().and_then(std::path::Path::parent).map_or_else(|| "target/debug".into(), |p| p.display().to_string());
            println!("dev token:       {folder}/local-runtime token <user> <device>");
            println!("chat from a terminal: {folder}/chat-client {} <user> <device>", runtime.websocket_url());
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
