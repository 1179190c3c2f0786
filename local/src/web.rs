//! The web app, served locally as its static files would be from a bucket
//! behind CloudFront (`local/web/app/`, and the client library from
//! `clients/js/src/` at `/client/`), with
//! what a deployment gets from elsewhere: `config.json` (the API URLs, as the
//! stack's outputs) and a development token endpoint standing in for the
//! app's identity service. Only the local runtime serves that endpoint; it
//! signs with the development key, which a deployed stack never uses.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::services::ServeDir;

/// The folder the web app's files are in.
pub fn web_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// The client library's modules, served at `/client/` (the package's `src/`).
pub fn client_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../clients/js/src")
}

/// The web app's npm packages (`scripts/aws-local.sh` `ensure_web_packages`
/// installs them), each served at `/vendor/<package>/`.
pub fn vendor_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/web/node_modules")
}

/// Which of them the app loads: only these are served, not the whole folder.
const VENDORED: [&str; 2] = ["emoji-picker-element", "emoji-picker-element-data"];

struct Web {
    websocket_url: String,
    http_api_url: Option<String>,
    jwt_secret: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenRequest {
    user_id: String,
    device_id: String,
}

async fn config(State(web): State<Arc<Web>>) -> Response {
    Json(json!({ "websocketUrl": web.websocket_url, "httpApiUrl": web.http_api_url, "devTokenUrl": "/dev/token" })).into_response()
}

/// `POST /dev/token {userId, deviceId}` → `{token}`, valid for a day.
async fn dev_token(State(web): State<Arc<Web>>, Json(request): Json<TokenRequest>) -> Response {
    for (what, id) in [("userId", &request.user_id), ("deviceId", &request.device_id)] {
        if let Err(e) = domain::ids::check_id(what, id) {
            return (StatusCode::BAD_REQUEST, Json(json!({ "code": e.code(), "message": e.to_string() }))).into_response();
        }
    }
    let token = domain::auth::issue_token(&web.jwt_secret, &request.user_id, &request.device_id, 24 * 3600);
    Json(json!({ "token": token })).into_response()
}

/// Serves the web app on `bind`; returns its address.
pub async fn start(
    bind: SocketAddr,
    websocket_url: String,
    http_api_url: Option<String>,
    jwt_secret: String,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), std::io::Error> {
    let listener = TcpListener::bind(bind).await?;
    let address = listener.local_addr()?;
    let web = Arc::new(Web { websocket_url, http_api_url, jwt_secret });
    let root = web_root();
    let mut app = Router::new()
        .route("/config.json", get(config))
        .route("/dev/token", post(dev_token))
        .nest_service("/client", ServeDir::new(client_root()));
    for package in VENDORED {
        app = app.nest_service(&format!("/vendor/{package}"), ServeDir::new(vendor_root().join(package)));
    }
    let app = app.fallback_service(ServeDir::new(root.join("app"))).with_state(web);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "web app server stopped");
        }
    });
    Ok((address, task))
}
