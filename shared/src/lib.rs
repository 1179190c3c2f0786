//! The domain library every Lambda uses.

pub mod auth;
pub mod bucket;
pub mod calls;
pub mod config;
pub mod context;
pub mod error;
#[cfg(test)]
pub(crate) mod fakes;
pub mod fanout;
pub mod history;
pub mod http;
pub mod ids;
pub mod lambda;
pub mod limits;
pub mod media;
pub mod messaging;
pub mod notifier;
pub mod ports;
pub mod protocol;
pub mod retention;
pub mod secrets;
pub mod store;
pub mod text;
pub mod time;
pub mod websocket;

pub use context::AppContext;
pub use error::AppError;
