//! `local-runtime serve` runs the WebSocket API and the HTTP API locally;
//! `local-runtime token <user> <device>` prints a development token.

use std::time::Duration;

use local_runtime::{DEV_JWT_SECRET, LocalRuntime, Options, repository_template};

fn usage() -> ! {
    eprintln!(
        "usage: local-runtime serve [--port N] [--http-port N] [--web-port N] [--template PATH] [--no-iam] [--processes DIR]\n       local-runtime token <user> <device> [--hours N]"
    );
    std::process::exit(2)
}

fn env_secs(name: &str) -> Option<Duration> {
    std::env::var(name).ok()?.parse().ok().map(Duration::from_secs)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let secret = std::env::var("JWT_SECRET").unwrap_or_else(|_| DEV_JWT_SECRET.into());
    match args.first().map(String::as_str) {
        Some("token") => {
            let (Some(user), Some(device)) = (args.get(1), args.get(2)) else { usage() };
            let hours: i64 = flag("--hours").and_then(|h| h.parse().ok()).unwrap_or(24);
            println!("{}", shared::auth::issue_token(&secret, user, device, hours * 3600));
        }
        Some("serve") => {
            shared::lambda::init_json_logs();
            let mut options = Options::new(flag("--template").map(Into::into).unwrap_or_else(repository_template));
            let port: u16 = flag("--port").and_then(|p| p.parse().ok()).unwrap_or(8080);
            options.bind = ([127, 0, 0, 1], port).into();
            let http_port: u16 = flag("--http-port").and_then(|p| p.parse().ok()).unwrap_or(port + 1);
            options.http_bind = ([127, 0, 0, 1], http_port).into();
            let web_port: u16 = flag("--web-port").and_then(|p| p.parse().ok()).unwrap_or(port + 2);
            options.web_bind = Some(([127, 0, 0, 1], web_port).into());
            options.jwt_secret = secret;
            // For a look at what a policy change would allow; never in tests.
            options.enforce_iam = !args.iter().any(|a| a == "--no-iam");
            // Each function as its own process from DIR's binaries (e.g. target/release).
            options.processes = flag("--processes").map(Into::into);
            if let Some(idle) = env_secs("LOCAL_WS_IDLE_TIMEOUT_SECS") {
                options.quotas.idle_timeout = idle;
            }
            if let Some(age) = env_secs("LOCAL_WS_MAX_CONNECTION_SECS") {
                options.quotas.max_connection_age = age;
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
            println!("dev token:       cargo run -q -p local-runtime -- token <user> <device>");
            println!(
                "chat from a terminal: cargo run -q -p local-runtime --bin chat-client -- {} <user> <device>",
                runtime.websocket_url()
            );
            let _ = tokio::signal::ctrl_c().await;
        }
        _ => usage(),
    }
}
