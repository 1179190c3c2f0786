//! The in-process stand-in for Lambda: each binary named in the template maps
//! to its crate's handler. Events go in and responses come out as JSON, exactly
//! as `lambda_runtime` would (de)serialise them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::AppContext;
use shared::lambda::HandlerError;

pub type BoxedInvocation = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;
pub type Handler = fn(Arc<AppContext>, Value) -> BoxedInvocation;

/// Deserialises the event, runs the handler, serialises the response; a
/// handler error becomes the Lambda error message.
fn invoke<E, R, Fut>(ctx: Arc<AppContext>, event: Value, handler: fn(Arc<AppContext>, E) -> Fut) -> BoxedInvocation
where
    E: DeserializeOwned + Send + 'static,
    R: Serialize,
    Fut: Future<Output = Result<R, HandlerError>> + Send + 'static,
{
    Box::pin(async move {
        let event: E = serde_json::from_value(event).map_err(|e| format!("event does not deserialise: {e}"))?;
        let response = handler(ctx, event).await.map_err(|e| e.to_string())?;
        serde_json::to_value(response).map_err(|e| e.to_string())
    })
}

/// An HTTP API function as `lambda_http` runs it: the payload 2.0 event becomes
/// an `http::Request` (with its request context, path and query parameters)
/// through `lambda_http`'s own conversion, and the response goes back out in
/// the shape API Gateway reads.
fn invoke_http<Fut>(ctx: Arc<AppContext>, event: Value, handler: fn(Arc<AppContext>, lambda_http::Request) -> Fut) -> BoxedInvocation
where
    Fut: Future<Output = Result<shared::http::HttpResponse, HandlerError>> + Send + 'static,
{
    Box::pin(async move {
        let request = lambda_http::request::from_str(&event.to_string()).map_err(|e| format!("event does not deserialise: {e}"))?;
        let response = handler(ctx, request).await.map_err(|e| e.to_string())?;
        serde_json::to_value(shared::http::to_gateway_response(response)).map_err(|e| e.to_string())
    })
}

/// Handler for a template function's `Metadata.BuildProperties.Binary`.
pub fn handler_for(binary: &str) -> Option<Handler> {
    Some(match binary {
        "authorizer" => |ctx, event| invoke(ctx, event, functions::authorizer::handle),
        "connect" => |ctx, event| invoke(ctx, event, functions::connect::handle),
        "disconnect" => |ctx, event| invoke(ctx, event, functions::disconnect::handle),
        "default-route" => |ctx, event| invoke(ctx, event, functions::default_route::handle),
        "create-chat" => |ctx, event| invoke(ctx, event, functions::create_chat::handle),
        "send-message" => |ctx, event| invoke(ctx, event, functions::send_message::handle),
        "accept-chat" => |ctx, event| invoke(ctx, event, functions::accept_chat::handle),
        "ack" => |ctx, event| invoke(ctx, event, functions::ack::handle),
        "sync" => |ctx, event| invoke(ctx, event, functions::sync::handle),
        "typing" => |ctx, event| invoke(ctx, event, functions::typing::handle),
        "edit-message" => |ctx, event| invoke(ctx, event, functions::edit_message::handle),
        "delete-message" => |ctx, event| invoke(ctx, event, functions::delete_message::handle),
        "react" => |ctx, event| invoke(ctx, event, functions::react::handle),
        "set-privacy" => |ctx, event| invoke(ctx, event, functions::set_privacy::handle),
        "update-chat" => |ctx, event| invoke(ctx, event, functions::update_chat::handle),
        "update-profile" => |ctx, event| invoke(ctx, event, functions::update_profile::handle),
        "block-user" => |ctx, event| invoke(ctx, event, functions::block_user::handle),
        "list-blocked" => |ctx, event| invoke(ctx, event, functions::list_blocked::handle),
        "modify-chat-participants" => |ctx, event| invoke(ctx, event, functions::modify_chat_participants::handle),
        "mark-read" => |ctx, event| invoke(ctx, event, functions::mark_read::handle),
        "list-chats" => |ctx, event| invoke(ctx, event, functions::list_chats::handle),
        "unregister-device" => |ctx, event| invoke(ctx, event, functions::unregister_device::handle),
        "list-devices" => |ctx, event| invoke(ctx, event, functions::list_devices::handle),
        "message-status" => |ctx, event| invoke(ctx, event, functions::message_status::handle),
        "receipts" => |ctx, event| invoke(ctx, event, functions::receipts::handle),
        "register-push" => |ctx, event| invoke(ctx, event, functions::register_push::handle),
        "unregister-push" => |ctx, event| invoke(ctx, event, functions::unregister_push::handle),
        "mute-chat" => |ctx, event| invoke(ctx, event, functions::mute_chat::handle),
        "push" => |ctx, event| invoke(ctx, event, functions::push::handle),
        "cleanup" => |ctx, event| invoke(ctx, event, functions::cleanup::handle),
        "heartbeat" => |ctx, event| invoke(ctx, event, functions::heartbeat::handle),
        "subscribe-presence" => |ctx, event| invoke(ctx, event, functions::subscribe_presence::handle),
        "presence-changes" => |ctx, event| invoke(ctx, event, functions::presence_changes::handle),
        "presence-sweep" => |ctx, event| invoke(ctx, event, functions::presence_sweep::handle),
        "http-authorizer" => |ctx, event| invoke(ctx, event, functions::http_authorizer::handle),
        "create-attachment" => |ctx, event| invoke_http(ctx, event, functions::create_attachment::handle),
        "get-attachment" => |ctx, event| invoke_http(ctx, event, functions::get_attachment::handle),
        "get-chats" => |ctx, event| invoke_http(ctx, event, functions::get_chats::handle),
        "get-chat" => |ctx, event| invoke_http(ctx, event, functions::get_chat::handle),
        "get-messages" => |ctx, event| invoke_http(ctx, event, functions::get_messages::handle),
        "get-user" => |ctx, event| invoke_http(ctx, event, functions::get_user::handle),
        "create-avatar" => |ctx, event| invoke_http(ctx, event, functions::create_avatar::handle),
        "get-avatar" => |ctx, event| invoke_http(ctx, event, functions::get_avatar::handle),
        _ => return None,
    })
}
