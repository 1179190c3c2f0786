//! Serving one function of the registry under Lambda: JSON logs, the context
//! built once per execution environment, each invocation's AWS calls counted
//! and logged (`invocation finished`, which the local runtime's process mode
//! reads as CloudWatch Logs would be read).

use std::future::Future;
use std::pin::Pin;

use aws_adapters::calls;
use lambda_http::RequestExt;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use transport::lambda::{HandlerError, deadline_of, init_json_logs, log_invocation, with_deadline};

use crate::registry::{Function, Handler};

/// One invocation, its AWS calls counted and logged. Boxed: handler futures
/// are deep enough to overflow the compiler's layout recursion limit when
/// nested inside the runtime's own.
async fn tracked<R>(
    function: &'static str,
    invocation: Pin<Box<dyn Future<Output = Result<R, HandlerError>> + Send>>,
) -> Result<R, HandlerError> {
    let (output, calls) = calls::track(invocation).await;
    log_invocation(function, &calls);
    output
}

/// Runs the function until Lambda stops its environment: `lambda_http` for an
/// HTTP API function, `lambda_runtime` with JSON events for every other.
pub async fn serve(function: &'static Function) -> Result<(), lambda_runtime::Error> {
    init_json_logs();
    let ctx = crate::wiring::from_env().await?;
    let name = function.name;
    match function.handler {
        Handler::Event(handler) => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let deadline = deadline_of(event.context.deadline);
                tracked(name, Box::pin(with_deadline(deadline, handler(ctx.clone(), event.payload))))
            }))
            .await
        }
        Handler::Http(handler) => {
            lambda_http::run(service_fn(move |request: lambda_http::Request| {
                let deadline = deadline_of(request.lambda_context().deadline);
                tracked(name, Box::pin(with_deadline(deadline, handler(ctx.clone(), request))))
            }))
            .await
        }
    }
}
