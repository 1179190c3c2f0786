//! The Lambdas, one module per function of `template.yaml`: each translates
//! its event into a call of `shared` and the result back. Each function is its
//! own binary (`src/bin/<name>.rs`, the template's `BuildProperties.Binary`),
//! so each deploys with its own role, memory and logs; the local runtime calls
//! the same `handle` functions in process.

pub mod accept_chat;
pub mod ack;
pub mod authorizer;
pub mod block_user;
pub mod cleanup;
pub mod connect;
pub mod create_attachment;
pub mod create_avatar;
pub mod create_chat;
pub mod default_route;
pub mod delete_message;
pub mod disconnect;
pub mod edit_message;
pub mod get_attachment;
pub mod get_avatar;
pub mod get_chat;
pub mod get_chats;
pub mod get_messages;
pub mod get_user;
pub mod heartbeat;
pub mod http_authorizer;
pub mod list_blocked;
pub mod list_chats;
pub mod list_devices;
pub mod mark_read;
pub mod message_status;
pub mod modify_chat_participants;
pub mod mute_chat;
pub mod presence_changes;
pub mod presence_sweep;
pub mod push;
pub mod react;
pub mod receipts;
pub mod register_push;
pub mod send_message;
pub mod set_privacy;
pub mod subscribe_presence;
pub mod sync;
pub mod typing;
pub mod unregister_device;
pub mod unregister_push;
pub mod update_chat;
pub mod update_profile;
