//! Transport: the Lambda glue between API Gateway's events and the domain —
//! WebSocket route events in and frames out (`websocket`), HTTP API requests
//! and responses (`http`), deadlines, logs and stream answers (`lambda`).
//! The wire types themselves are the domain's contract (`domain::protocol`).

pub mod http;
pub mod lambda;
pub mod websocket;
