//! Every function of `template.yaml`, once: its handler name (the template's
//! `Handler`, which Lambda hands the one `bootstrap` binary as `_HANDLER`),
//! what invokes it, and its handler. The deployed binary (`main.rs`), the local
//! runtime and the template-consistency test all read this table, so a
//! function missing from one of them cannot deploy, run locally or pass CI.
//!
//! Handlers take and give JSON here, as `lambda_runtime` (de)serialises them,
//! and HTTP API handlers `lambda_http`'s request and response: one
//! instantiation of each runtime serves every function, where a generic one
//! per handler made the binary build its runtime 43 times.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use domain::AppContext;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use transport::http::HttpResponse;
use transport::lambda::HandlerError;

use crate::{authorizers, http, schedules, streams, websocket};

/// Which API a Lambda authorizer guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    WebSocket,
    Http,
}

/// What invokes a function, as the template wires it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A route of the WebSocket API, by its route key (`$connect`, `sendMessage`).
    WebSocket(&'static str),
    /// A route of the HTTP API.
    Http { method: &'static str, path: &'static str },
    /// The consumer of a table's DynamoDB stream (the table's logical id).
    Stream(&'static str),
    /// An EventBridge schedule.
    Schedule,
    /// The Lambda authorizer of an API.
    Authorizer(Api),
}

pub type Invocation = Pin<Box<dyn Future<Output = Result<Value, HandlerError>> + Send>>;
pub type HttpInvocation = Pin<Box<dyn Future<Output = Result<HttpResponse, HandlerError>> + Send>>;

#[derive(Clone, Copy)]
pub enum Handler {
    /// A JSON event in, a JSON response out.
    Event(fn(Arc<AppContext>, Value) -> Invocation),
    /// An HTTP API function: `lambda_http`'s request in, its response out.
    Http(fn(Arc<AppContext>, lambda_http::Request) -> HttpInvocation),
}

#[derive(Clone, Copy)]
pub struct Function {
    /// The template's `Handler` (kebab-case, as the function's log lines name it).
    pub name: &'static str,
    pub kind: Kind,
    pub handler: Handler,
}

/// Deserialises the event, runs the handler, serialises its response.
pub fn invoke<E, R, Fut>(ctx: Arc<AppContext>, event: Value, handler: fn(Arc<AppContext>, E) -> Fut) -> Invocation
where
    E: DeserializeOwned + Send + 'static,
    R: Serialize,
    Fut: Future<Output = Result<R, HandlerError>> + Send + 'static,
{
    Box::pin(async move {
        let event: E = serde_json::from_value(event).map_err(|e| HandlerError::from(format!("event does not deserialise: {e}")))?;
        Ok(serde_json::to_value(handler(ctx, event).await?)?)
    })
}

/// One row of the table: `event` for a JSON handler, `http` for an HTTP API one.
macro_rules! function {
    ($name:literal, $kind:expr, event $handle:path) => {
        Function { name: $name, kind: $kind, handler: Handler::Event(|ctx, event| invoke(ctx, event, $handle)) }
    };
    ($name:literal, $kind:expr, http $handle:path) => {
        Function { name: $name, kind: $kind, handler: Handler::Http(|ctx, request| Box::pin($handle(ctx, request))) }
    };
}

use Kind::{Authorizer, Schedule, Stream, WebSocket};

const fn get(path: &'static str) -> Kind {
    Kind::Http { method: "GET", path }
}

const fn post(path: &'static str) -> Kind {
    Kind::Http { method: "POST", path }
}

/// Every function, in the template's order of concerns.
pub static FUNCTIONS: &[Function] = &[
    function!("authorizer", Authorizer(Api::WebSocket), event authorizers::websocket::handle),
    function!("connect", WebSocket("$connect"), event websocket::connect::handle),
    function!("disconnect", WebSocket("$disconnect"), event websocket::disconnect::handle),
    function!("default-route", WebSocket("$default"), event websocket::default_route::handle),
    function!("create-chat", WebSocket("createChat"), event websocket::create_chat::handle),
    function!("send-message", WebSocket("sendMessage"), event websocket::send_message::handle),
    function!("accept-chat", WebSocket("acceptChat"), event websocket::accept_chat::handle),
    function!("ack", WebSocket("ack"), event websocket::ack::handle),
    function!("sync", WebSocket("sync"), event websocket::sync::handle),
    function!("typing", WebSocket("typing"), event websocket::typing::handle),
    function!("edit-message", WebSocket("editMessage"), event websocket::edit_message::handle),
    function!("delete-message", WebSocket("deleteMessage"), event websocket::delete_message::handle),
    function!("react", WebSocket("react"), event websocket::react::handle),
    function!("set-privacy", WebSocket("setPrivacy"), event websocket::set_privacy::handle),
    function!("update-chat", WebSocket("updateChat"), event websocket::update_chat::handle),
    function!("update-profile", WebSocket("updateProfile"), event websocket::update_profile::handle),
    function!("block-user", WebSocket("blockUser"), event websocket::block_user::handle),
    function!("list-blocked", WebSocket("listBlocked"), event websocket::list_blocked::handle),
    function!("modify-chat-participants", WebSocket("modifyChatParticipants"), event websocket::modify_chat_participants::handle),
    function!("mark-read", WebSocket("markRead"), event websocket::mark_read::handle),
    function!("list-chats", WebSocket("listChats"), event websocket::list_chats::handle),
    function!("unregister-device", WebSocket("unregisterDevice"), event websocket::unregister_device::handle),
    function!("list-devices", WebSocket("listDevices"), event websocket::list_devices::handle),
    function!("message-status", WebSocket("messageStatus"), event websocket::message_status::handle),
    function!("register-push", WebSocket("registerPush"), event websocket::register_push::handle),
    function!("unregister-push", WebSocket("unregisterPush"), event websocket::unregister_push::handle),
    function!("mute-chat", WebSocket("muteChat"), event websocket::mute_chat::handle),
    function!("delete-chat", WebSocket("deleteChat"), event websocket::delete_chat::handle),
    function!("heartbeat", WebSocket("heartbeat"), event websocket::heartbeat::handle),
    function!("subscribe-presence", WebSocket("subscribePresence"), event websocket::subscribe_presence::handle),
    function!("upload-keys", WebSocket("uploadKeys"), event websocket::upload_keys::handle),
    function!("get-device-keys", WebSocket("getDeviceKeys"), event websocket::get_device_keys::handle),
    function!("claim-keys", WebSocket("claimKeys"), event websocket::claim_keys::handle),
    function!("send-to-device", WebSocket("sendToDevice"), event websocket::send_to_device::handle),
    function!("receipts", Stream("InboxTable"), event streams::receipts::handle),
    function!("push", Stream("InboxTable"), event streams::push::handle),
    function!("presence-changes", Stream("UsersTable"), event streams::presence_changes::handle),
    function!("cleanup", Schedule, event schedules::cleanup::handle),
    function!("presence-sweep", Schedule, event schedules::presence_sweep::handle),
    function!("http-authorizer", Authorizer(Api::Http), event authorizers::http::handle),
    function!("create-attachment", post("/chats/{chatId}/attachments"), http http::create_attachment::handle),
    function!("get-attachment", get("/chats/{chatId}/attachments/{attachmentId}"), http http::get_attachment::handle),
    function!("get-chats", get("/chats"), http http::get_chats::handle),
    function!("get-chat", get("/chats/{chatId}"), http http::get_chat::handle),
    function!("get-messages", get("/chats/{chatId}/messages"), http http::get_messages::handle),
    function!("get-user", get("/users/{userId}"), http http::get_user::handle),
    function!("create-avatar", post("/users/me/avatar"), http http::create_avatar::handle),
    function!("get-avatar", get("/users/{userId}/avatar"), http http::get_avatar::handle),
];

/// The function a template's `Handler` names.
pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|function| function.name == name)
}
