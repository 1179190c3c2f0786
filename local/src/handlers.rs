//! The in-process stand-in for Lambda's runtimes: a registry function takes
//! its event and gives its response as JSON, exactly as `lambda_runtime` would
//! (de)serialise them; an HTTP API function's payload 2.0 event goes through
//! `lambda_http`'s own conversion, as the deployed binary's does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use domain::AppContext;
use functions::registry::{Function, Handler};
use serde_json::Value;

pub type BoxedInvocation = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// Runs one invocation; a handler error becomes the Lambda error message.
pub fn invoke(function: &'static Function, ctx: Arc<AppContext>, event: Value) -> BoxedInvocation {
    match function.handler {
        Handler::Event(handler) => Box::pin(async move { handler(ctx, event).await.map_err(|e| e.to_string()) }),
        // The event becomes an `http::Request` (with its request context, path
        // and query parameters), and the response goes back in the shape API
        // Gateway reads.
        Handler::Http(handler) => Box::pin(async move {
            let request = lambda_http::request::from_str(&event.to_string()).map_err(|e| format!("event does not deserialise: {e}"))?;
            let response = handler(ctx, request).await.map_err(|e| e.to_string())?;
            serde_json::to_value(transport::http::to_gateway_response(response)).map_err(|e| e.to_string())
        }),
    }
}
