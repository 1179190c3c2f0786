//! The entities the tables hold — chats, members, messages, inboxes,
//! devices, contacts, presence watches, uploads, connections — in their
//! stored formats (the store crate reads and writes them; its
//! `item_formats` test pins each), with what the rules ask of them.

pub mod attachments;
pub mod chats;
pub mod connections;
pub mod contacts;
pub mod inbox;
pub mod memberships;
pub mod messages;
pub mod one_time_keys;
pub mod presence;
pub mod users;

use std::time::Duration;

pub use attachments::{ATTACHMENT_EXPIRY_SHARDS, AVATAR_SCOPE, Attachment, attachment_expiry_bucket};
pub use chats::{Chat, Taken, Taking};
pub use connections::{CONNECT_SHARDS, Connected, ConnectionRecord, HEARTBEAT_SHARDS};
pub use contacts::Contact;
pub use inbox::{EntryKind, InboxEntry, InboxPage};
pub use memberships::{ChatInfoAtRemoval, MemberChange, Membership};
pub use messages::{Accepted, AppendOutcome, ChatEntry, HOLE_FILL_AFTER_MS, Message, TargetChange, change_actions, client_key};
pub use presence::PresenceSubscription;
pub use users::{Avatar, Device, OneTimeKey, PresenceAudience, Privacy, Profile, PushEndpoint, StoredIdentityKeys, UserDevices};

/// DynamoDB's own limits on one request.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;

/// Exponential backoff with full jitter, for unprocessed items and optimistic retries.
pub async fn backoff(attempt: usize) {
    let cap_ms = (5_u64 << attempt.min(6)).min(250);
    let ms = rand::random_range(1..=cap_ms);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
