//! Inbox table: one partition per device (`user#device`), one item per frame
//! the device has not acknowledged yet (sort: entry id, a ULID, so oldest
//! first). Messages are the common case; membership changes, read syncs and
//! receipts travel the same way, so an offline device gets them on `sync`.
//! Entries expire after the retention period (TTL attribute `expiresAt`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboxEntry {
    pub device_key: String,
    /// The message id for messages, the event id for other frames.
    pub entry_id: String,
    pub chat_id: String,
    /// The chat's seq the frame belongs to (orders a device's replay per chat).
    pub seq: u64,
    /// What the frame is (its `type`).
    pub kind: EntryKind,
    /// Who sent the message (messages only): for receipts and push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
    /// The frame exactly as it is posted live.
    pub frame: String,
    /// TTL attribute, seconds since the epoch. TTL deletes lazily (within
    /// days, for no write units), so reads filter on it too.
    pub expires_at: u64,
    /// Set just before an entry is deleted for a reason other than an ack
    /// (its device was unregistered), so the REMOVE record on the stream says
    /// the frame was never received: no `delivered` receipt comes of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub discarded: bool,
}

/// What an inbox entry carries, stored as the frame's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EntryKind {
    NewMessage,
    NewChat,
    ChatUpdate,
    ReadSync,
    Receipt,
    /// An edit, deletion or reaction (`messageChanged`).
    MessageChange,
    /// Any other frame; also how a kind written by a newer version reads, so
    /// an older function in the middle of a deployment still delivers it.
    #[serde(other)]
    Event,
}

impl InboxEntry {
    pub fn is_message(&self) -> bool {
        self.kind == EntryKind::NewMessage
    }

    /// Whether removing this entry at `removed_at_secs` means its device got
    /// the frame. Only an ack removes an entry that is neither discarded nor
    /// expired: TTL and the cleanup job remove expired entries, and
    /// unregistering a device discards its inbox.
    pub fn removal_was_ack(&self, removed_at_secs: u64) -> bool {
        !self.discarded && self.expires_at > removed_at_secs
    }
}

pub struct InboxPage {
    pub entries: Vec<InboxEntry>,
    /// Where the next page starts, when there is one.
    pub cursor: Option<String>,
}
