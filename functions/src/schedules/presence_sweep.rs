//! Every minute: connections whose heartbeats stopped go offline even when
//! `$disconnect` never fired, and their users' watchers are told.

use std::sync::Arc;

use serde_json::{Value, json};
use shared::AppContext;
use shared::lambda::HandlerError;
use shared::messaging::presence::sweep;

pub async fn handle(ctx: Arc<AppContext>, _event: Value) -> Result<Value, HandlerError> {
    let swept = sweep(&ctx, shared::time::now_millis()).await?;
    Ok(json!({ "sweptConnections": swept }))
}
