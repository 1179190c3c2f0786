//! The HTTP API's routes, one module per route (named after its function).

pub mod create_attachment;
pub mod create_avatar;
pub mod get_attachment;
pub mod get_avatar;
pub mod get_chat;
pub mod get_chats;
pub mod get_messages;
pub mod get_user;
