//! Messages table (partition: chat, sort: seq; kept for ever) and the
//! client-message-id table that makes `sendMessage` idempotent.
//!
//! A chat's seqs number its messages and the changes to them (edits,
//! deletions for everyone, reactions) in one sequence. A message item holds
//! the message as it is now, with what it was before each edit and who
//! reacted when, so history can show it as it was at any seq; a change item
//! (`kind` set) records the change at its own seq.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Attachment;
use crate::error::StoreError;
use crate::protocol::{AttachmentView, Change, Deletion, MessageChange, MessageView, Quote, ReactionCount};

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A message as the Messages table stores it, kept for ever. Apart from the
/// wire's `MessageView` on purpose: a client-facing rename must not make
/// stored messages unreadable (`item_formats` pins this format).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageItem {
    pub chat_id: String,
    pub message_id: String,
    pub seq: u64,
    pub sender_id: String,
    pub sender_device: String,
    pub client_message_id: String,
    /// The text; in an encrypted chat, an envelope the server cannot read.
    pub message: String,
    /// Sent in an end-to-end encrypted chat.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
    #[serde(default)]
    pub mentions: Vec<String>,
    pub sent_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<QuoteItem>,
    /// Changes (not messages) with seq up to this one's: unread counts skip them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub events: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<u64>,
    /// The texts it had before each edit, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionItem>,
    /// Each user's one reaction.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactions: BTreeMap<String, ReactionItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletionItem>,
    /// The seq of the last change applied to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_seq: Option<u64>,
}

/// A text a message had until an edit at `replacedAtSeq` replaced it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionItem {
    pub message: String,
    /// When that text was itself the result of an edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<u64>,
    pub replaced_at_seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionItem {
    pub emoji: String,
    /// The seq of the change that set it.
    pub seq: u64,
    pub at: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionItem {
    pub by: String,
    pub at: u64,
    pub seq: u64,
}

/// A change to an earlier message, at its own seq, kept for ever like messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeItem {
    pub chat_id: String,
    pub seq: u64,
    /// What changed: `edit`, `delete` or `reaction` (named here, apart from the
    /// wire's `change`). Its presence tells a change item from a message.
    pub kind: String,
    pub event_id: String,
    pub target_seq: u64,
    pub target_message_id: String,
    pub target_sender_id: String,
    pub user_id: String,
    pub at: u64,
    /// An edit's new text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A reaction's emoji (absent: removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// Changes with seq up to this one's, this one included.
    pub events: u64,
    /// The chat's last message when the change was made (the chat list's preview).
    pub last_message_seq: u64,
}

const EDIT: &str = "edit";
const DELETE: &str = "delete";
const REACTION: &str = "reaction";

impl From<&MessageChange> for ChangeItem {
    fn from(c: &MessageChange) -> Self {
        let (kind, message, emoji) = match &c.change {
            Change::Edited { message } => (EDIT, message.clone(), None),
            Change::Deleted => (DELETE, None, None),
            Change::Reacted { emoji } => (REACTION, None, emoji.clone()),
        };
        ChangeItem {
            chat_id: c.chat_id.clone(),
            seq: c.seq,
            kind: kind.into(),
            event_id: c.event_id.clone(),
            target_seq: c.target_seq,
            target_message_id: c.message_id.clone(),
            target_sender_id: c.target_sender_id.clone(),
            user_id: c.user_id.clone(),
            at: c.at,
            message,
            emoji,
            events: 0,
            last_message_seq: 0,
        }
    }
}

impl TryFrom<ChangeItem> for MessageChange {
    type Error = StoreError;

    fn try_from(c: ChangeItem) -> Result<Self, StoreError> {
        let change = match c.kind.as_str() {
            EDIT => Change::Edited { message: c.message },
            DELETE => Change::Deleted,
            REACTION => Change::Reacted { emoji: c.emoji },
            other => return Err(StoreError::Build(format!("unknown change kind {other:?} at seq {}", c.seq))),
        };
        Ok(MessageChange {
            event_id: c.event_id,
            chat_id: c.chat_id,
            seq: c.seq,
            target_seq: c.target_seq,
            message_id: c.target_message_id,
            target_sender_id: c.target_sender_id,
            user_id: c.user_id,
            at: c.at,
            change,
            hidden: false,
        })
    }
}

/// A message with what happened to it since it was sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// As it is now, without its reactions.
    pub view: MessageView,
    /// Changes with seq before it (unread counts skip them).
    pub events: u64,
    versions: Vec<VersionItem>,
    reactions: BTreeMap<String, ReactionItem>,
    deleted_seq: Option<u64>,
}

impl Message {
    /// A message as sent, with `events` changes before it (tests).
    #[cfg(test)]
    pub fn for_test(view: MessageView, events: u64) -> Self {
        Message { view, events, versions: Vec::new(), reactions: BTreeMap::new(), deleted_seq: None }
    }

    pub fn is_deleted(&self) -> bool {
        self.view.deleted.is_some()
    }

    /// How many times it was edited.
    pub fn edits(&self) -> usize {
        self.versions.len()
    }

    /// The seq of the edit that gave it its text now, if it was edited.
    pub fn last_edit_seq(&self) -> Option<u64> {
        self.versions.iter().map(|v| v.replaced_at_seq).max()
    }

    /// Each user's reaction now, as stored.
    pub fn reactions(&self) -> &BTreeMap<String, ReactionItem> {
        &self.reactions
    }

    /// The user's reaction now.
    pub fn reaction_of(&self, user_id: &str) -> Option<&str> {
        self.reactions.get(user_id).map(|r| r.emoji.as_str())
    }

    /// The seq of the change that set the user's reaction.
    pub fn reaction_seq(&self, user_id: &str) -> Option<u64> {
        self.reactions.get(user_id).map(|r| r.seq)
    }

    /// The seq of the last change applied to it (for the optimistic condition).
    pub fn updated_seq(&self) -> Option<u64> {
        self.view.updated_seq
    }

    /// The message as it was once the chat reached `until` (a removed
    /// member's last seq; `u64::MAX`: now): the text it had then, the
    /// reactions made by then. A deletion is shown whenever it happened:
    /// deleted content is gone for everyone.
    pub fn view_at(&self, until: u64) -> MessageView {
        let mut view = self.view.clone();
        if let Some(version) = self.versions.iter().find(|v| v.replaced_at_seq > until) {
            view.message = version.message.clone();
            view.edited_at = version.edited_at;
        }
        let mut by_emoji: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (user, reaction) in self.reactions.iter().filter(|(_, r)| r.seq <= until) {
            by_emoji.entry(&reaction.emoji).or_default().push(user.clone());
        }
        view.reactions =
            by_emoji.into_iter().map(|(emoji, users)| ReactionCount { emoji: emoji.to_owned(), count: users.len(), users }).collect();
        if until < u64::MAX {
            let changed = self.versions.iter().map(|v| v.replaced_at_seq).chain(self.reactions.values().map(|r| r.seq));
            view.updated_seq = changed.chain(self.deleted_seq).filter(|seq| *seq <= until).max().or(self.deleted_seq);
        }
        view
    }
}

/// What the Messages table holds at one seq.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEntry {
    Message(Box<Message>),
    /// A change, and the chat's last message when it was made.
    Change {
        change: MessageChange,
        last_message_seq: u64,
        /// Changes with seq up to and including this one.
        events: u64,
    },
    /// A seq whose taker never wrote it (it died, or lost a race for its
    /// `clientMessageId` or its target): nothing, shown to no one.
    Hole {
        seq: u64,
        events: u64,
        message: bool,
    },
}

impl ChatEntry {
    pub fn seq(&self) -> u64 {
        match self {
            ChatEntry::Message(m) => m.view.seq,
            ChatEntry::Change { change, .. } => change.seq,
            ChatEntry::Hole { seq, .. } => *seq,
        }
    }

    /// Changes (not messages) with seq up to and including this one's.
    pub fn events(&self) -> u64 {
        match self {
            ChatEntry::Message(m) => m.events,
            ChatEntry::Change { events, .. } | ChatEntry::Hole { events, .. } => *events,
        }
    }

    pub fn is_change(&self) -> bool {
        matches!(self, ChatEntry::Change { .. })
    }

    /// When it was written (a hole: never; 0).
    pub fn at(&self) -> u64 {
        match self {
            ChatEntry::Message(m) => m.view.sent_at,
            ChatEntry::Change { change, .. } => change.at,
            ChatEntry::Hole { .. } => 0,
        }
    }
}

/// A filled hole as stored: the seq, and the changes up to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoleItem {
    pub chat_id: String,
    pub seq: u64,
    /// Always `hole` (a change's kinds are `edit`, `delete`, `reaction`).
    pub kind: String,
    pub events: u64,
    /// Whether the seq was taken for a message (unread counts skip it).
    pub message: bool,
    pub filled_at: u64,
}

pub const HOLE: &str = "hole";

/// How a change alters its target message (built by the domain, written here).
pub enum TargetChange<'a> {
    Edit { text: &'a str },
    Delete { attachments: &'a [Attachment] },
    React { emoji: Option<&'a str> },
}

/// The quoted message a stored reply carries, as it was when quoted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteItem {
    pub seq: u64,
    pub message_id: String,
    pub sender_id: String,
    pub snippet: String,
    pub attachment_count: usize,
}

/// A file a stored message carries: a copy of the attachment's metadata, so
/// reading history needs no second table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRef {
    pub attachment_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

impl From<&MessageView> for MessageItem {
    fn from(m: &MessageView) -> Self {
        MessageItem {
            chat_id: m.chat_id.clone(),
            message_id: m.message_id.clone(),
            seq: m.seq,
            sender_id: m.sender_id.clone(),
            sender_device: m.sender_device.clone(),
            client_message_id: m.client_message_id.clone(),
            message: m.message.clone(),
            encrypted: m.encrypted,
            attachments: m
                .attachments
                .iter()
                .map(|a| AttachmentRef {
                    attachment_id: a.attachment_id.clone(),
                    file_name: a.file_name.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                    sha256: a.sha256.clone(),
                })
                .collect(),
            mentions: m.mentions.clone(),
            sent_at: m.sent_at,
            reply_to: m.reply_to.as_ref().map(|q| QuoteItem {
                seq: q.seq,
                message_id: q.message_id.clone(),
                sender_id: q.sender_id.clone(),
                snippet: q.snippet.clone(),
                attachment_count: q.attachment_count,
            }),
            events: 0,
            edited_at: None,
            versions: Vec::new(),
            reactions: BTreeMap::new(),
            deleted: None,
            updated_seq: None,
        }
    }
}

impl From<MessageItem> for Message {
    fn from(m: MessageItem) -> Self {
        let events = m.events;
        let versions = m.versions;
        let reactions = m.reactions;
        let deleted_seq = m.deleted.as_ref().map(|d| d.seq);
        let view = MessageView {
            chat_id: m.chat_id,
            message_id: m.message_id,
            seq: m.seq,
            sender_id: m.sender_id,
            sender_device: m.sender_device,
            client_message_id: m.client_message_id,
            message: m.message,
            encrypted: m.encrypted,
            attachments: m
                .attachments
                .into_iter()
                .map(|a| AttachmentView {
                    attachment_id: a.attachment_id,
                    file_name: a.file_name,
                    content_type: a.content_type,
                    size: a.size,
                    sha256: a.sha256,
                })
                .collect(),
            mentions: m.mentions,
            sent_at: m.sent_at,
            reply_to: m.reply_to.map(|q| Quote {
                seq: q.seq,
                message_id: q.message_id,
                sender_id: q.sender_id,
                snippet: q.snippet,
                attachment_count: q.attachment_count,
                deleted: false,
            }),
            edited_at: m.edited_at,
            deleted: m.deleted.map(|d| Deletion { by: d.by, at: d.at }),
            reactions: Vec::new(),
            updated_seq: m.updated_seq,
        };
        Message { view, events, versions, reactions, deleted_seq }
    }
}

/// What the Messages table holds at one seq, in its stored format.
#[derive(Clone, Debug, PartialEq)]
pub enum StoredEntry {
    Message(MessageItem),
    Change(ChangeItem),
    Hole(HoleItem),
}

impl StoredEntry {
    /// Changes (not messages) with seq up to and including this one's.
    pub fn events(&self) -> u64 {
        match self {
            StoredEntry::Message(m) => m.events,
            StoredEntry::Change(c) => c.events,
            StoredEntry::Hole(h) => h.events,
        }
    }
}

impl TryFrom<StoredEntry> for ChatEntry {
    type Error = StoreError;

    fn try_from(stored: StoredEntry) -> Result<Self, StoreError> {
        Ok(match stored {
            StoredEntry::Hole(hole) => ChatEntry::Hole { seq: hole.seq, events: hole.events, message: hole.message },
            StoredEntry::Change(item) => {
                let (last_message_seq, events) = (item.last_message_seq, item.events);
                ChatEntry::Change { change: item.try_into()?, last_message_seq, events }
            }
            StoredEntry::Message(item) => ChatEntry::Message(Box::new(item.into())),
        })
    }
}

/// Records which message a sender's `clientMessageId` became.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub chat_id: String,
    /// `sender#clientMessageId`: scoped to the sender, so no one can claim another's ids.
    pub client_key: String,
    pub message_id: String,
    pub seq: u64,
    pub expires_at: u64,
    /// Whether the message's inbox entries were written: in the send
    /// transaction (small chats), or marked after the separate write (large
    /// ones). A retry rewrites them only when not, so it never brings back
    /// an entry a device already acknowledged.
    #[serde(default = "written")]
    pub inbox_written: bool,
    /// The changes before the message (with the counter, the seq is
    /// claimed before the message is written: a retry that finds the
    /// message missing writes it with these).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
}

/// Records from before `inbox_written` existed had their entries written.
fn written() -> bool {
    true
}

pub fn client_key(sender_id: &str, client_message_id: &str) -> String {
    format!("{sender_id}#{client_message_id}")
}

#[derive(Debug, PartialEq, Eq)]
pub enum AppendOutcome {
    Appended,
    /// The target changed since it was read (or its seq was filled as a
    /// hole): read again and retry.
    ChatChanged,
}

/// The transaction actions [`MessageTable::append_change`] takes besides inbox entries.
pub fn change_actions(how: &TargetChange<'_>) -> usize {
    3 + match how {
        TargetChange::Delete { attachments } => attachments.len(),
        _ => 0,
    }
}

/// How long a taken seq may stay empty before a reader fills it with a hole.
/// A send writes its message well within its function's timeout (15 s); a
/// taker that finds its seq filled anyway (it was slower than this) takes
/// another, so the bound trades how long a reader may see a gap against how
/// often a slow send takes a second seq — it never loses or doubles one.
pub const HOLE_FILL_AFTER_MS: u64 = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn edited_and_reacted() -> Message {
        let item = MessageItem {
            chat_id: "c".into(),
            message_id: "m".into(),
            seq: 3,
            sender_id: "alice".into(),
            sender_device: "phone".into(),
            client_message_id: "x".into(),
            message: "third".into(),
            encrypted: false,
            attachments: vec![],
            mentions: vec![],
            sent_at: 1,
            reply_to: None,
            events: 0,
            edited_at: Some(30),
            versions: vec![
                VersionItem { message: "first".into(), edited_at: None, replaced_at_seq: 5 },
                VersionItem { message: "second".into(), edited_at: Some(20), replaced_at_seq: 8 },
            ],
            reactions: BTreeMap::from([
                ("bob".to_owned(), ReactionItem { emoji: "👍".into(), seq: 4, at: 0 }),
                ("carol".to_owned(), ReactionItem { emoji: "👍".into(), seq: 9, at: 0 }),
                ("dave".to_owned(), ReactionItem { emoji: "😂".into(), seq: 6, at: 0 }),
            ]),
            deleted: None,
            updated_seq: Some(9),
        };
        item.into()
    }

    #[test]
    fn a_message_reads_as_it_was_at_any_seq() {
        let message = edited_and_reacted();
        let now = message.view_at(u64::MAX);
        assert_eq!((now.message.as_str(), now.edited_at, now.updated_seq), ("third", Some(30), Some(9)));
        assert_eq!(now.reactions[0], ReactionCount { emoji: "👍".into(), count: 2, users: vec!["bob".into(), "carol".into()] });
        assert_eq!(now.reactions[1].emoji, "😂");
        // Someone removed at seq 4 saw the first text and bob's reaction only.
        let then = message.view_at(4);
        assert_eq!((then.message.as_str(), then.edited_at, then.updated_seq), ("first", None, Some(4)));
        assert_eq!(then.reactions, vec![ReactionCount { emoji: "👍".into(), count: 1, users: vec!["bob".into()] }]);
        let later = message.view_at(7);
        assert_eq!((later.message.as_str(), later.edited_at), ("second", Some(20)));
    }
}
