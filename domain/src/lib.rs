//! The domain: the product in its own words — chats, members, devices,
//! messages, inboxes — and its rules over narrow ports (`ports`), with the
//! wire contract (`protocol`), ids, configuration and errors. It calls no
//! AWS service: the `store` and `aws-adapters` crates implement its ports.

pub mod auth;
pub mod config;
pub mod context;
pub mod error;
#[cfg(test)]
pub(crate) mod fakes;
pub mod history;
pub mod ids;
pub mod limits;
pub mod media;
pub mod messaging;
pub mod model;
pub mod ports;
pub mod protocol;
pub mod retention;
pub mod secrets;
pub mod text;
pub mod time;

pub use context::AppContext;
pub use error::AppError;
