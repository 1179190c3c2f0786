//! The Lambda authorizers of the WebSocket API (`$connect`) and of the HTTP API.

pub mod http;
pub mod websocket;
