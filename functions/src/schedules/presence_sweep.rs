//! Every minute: connections whose heartbeats stopped go offline even when
//! `$disconnect` never fired, and their users' watchers are told.

use std::sync::Arc;

use domain::AppContext;
use domain::messaging::presence::sweep;
use serde_json::{Value, json};
use transport::lambda::HandlerError;

pub async fn handle(ctx: Arc<AppContext>, _event: Value) -> Result<Value, HandlerError> {
    let swept = sweep(&ctx, domain::time::now_millis()).await?;
    Ok(json!({ "sweptConnections": swept }))
}
