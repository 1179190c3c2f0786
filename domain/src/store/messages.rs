//! Messages table (partition: chat, sort: seq; kept for ever) and the
//! client-message-id table that makes `sendMessage` idempotent.
//!
//! A chat's seqs number its messages and the changes to them (edits,
//! deletions for everyone, reactions) in one sequence. A message item holds
//! the message as it is now, with what it was before each edit and who
//! reacted when, so history can show it as it was at any seq; a change item
//! (`kind` set) records the change at its own seq.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use async_trait::async_trait;

use super::attachments::{mark_sent, unmark_sent};
use super::chats::Taken;
use super::memberships::{add_mention, sender_read_forward};
use super::{Attachment, DynamoStore, InboxEntry, applied, n, s};
use crate::error::StoreError;
use crate::ids::UserId;
use crate::ports::{InboxTable, MessageTable};
use crate::protocol::{AttachmentView, Change, Deletion, MessageChange, MessageView, Quote, ReactionCount};

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A message as the Messages table stores it, kept for ever. Apart from the
/// wire's `MessageView` on purpose: a client-facing rename must not make
/// stored messages unreadable (`item_formats` pins this format).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageItem {
    pub chat_id: String,
    pub message_id: String,
    pub seq: u64,
    pub sender_id: String,
    pub sender_device: String,
    pub client_message_id: String,
    /// The text.
    pub message: String,
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
pub(crate) struct VersionItem {
    pub message: String,
    /// When that text was itself the result of an edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<u64>,
    pub replaced_at_seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReactionItem {
    pub emoji: String,
    /// The seq of the change that set it.
    pub seq: u64,
    pub at: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeletionItem {
    pub by: String,
    pub at: u64,
    pub seq: u64,
}

/// A change to an earlier message, at its own seq, kept for ever like messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangeItem {
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
pub(crate) struct HoleItem {
    pub chat_id: String,
    pub seq: u64,
    /// Always `hole` (a change's kinds are `edit`, `delete`, `reaction`).
    pub kind: String,
    pub events: u64,
    /// Whether the seq was taken for a message (unread counts skip it).
    pub message: bool,
    pub filled_at: u64,
}

pub(super) const HOLE: &str = "hole";

/// How a change alters its target message (built by the domain, written here).
pub enum TargetChange<'a> {
    Edit { text: &'a str },
    Delete { attachments: &'a [Attachment] },
    React { emoji: Option<&'a str> },
}

/// The quoted message a stored reply carries, as it was when quoted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QuoteItem {
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
pub(crate) struct AttachmentRef {
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

/// A message, a change or a hole, told apart by `kind`.
pub(super) fn read_entry(item: super::Item) -> Result<ChatEntry, StoreError> {
    if item.get("kind").and_then(|k| k.as_s().ok()).is_some_and(|k| k == HOLE) {
        let hole = serde_dynamo::from_item::<_, HoleItem>(item)?;
        Ok(ChatEntry::Hole { seq: hole.seq, events: hole.events, message: hole.message })
    } else if item.contains_key("kind") {
        let item = serde_dynamo::from_item::<_, ChangeItem>(item)?;
        let (last_message_seq, events) = (item.last_message_seq, item.events);
        Ok(ChatEntry::Change { change: item.try_into()?, last_message_seq, events })
    } else {
        Ok(ChatEntry::Message(Box::new(serde_dynamo::from_item::<_, MessageItem>(item)?.into())))
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

#[async_trait]
impl MessageTable for DynamoStore {
    async fn append_change(
        &self,
        change: &MessageChange,
        target: &Message,
        how: TargetChange<'_>,
        inbox: Option<&[InboxEntry]>,
        taken: Taken,
    ) -> Result<AppendOutcome, StoreError> {
        let tables = &self.tables;
        let item = ChangeItem { events: taken.events, last_message_seq: taken.last_message_seq, ..ChangeItem::from(change) };
        let mut actions = vec![put(&tables.messages, serde_dynamo::to_item(item)?, Some("attribute_not_exists(chatId)"))?];
        let mut update = Update::builder()
            .table_name(&tables.messages)
            .key("chatId", s(&change.chat_id))
            .key("seq", n(target.view.seq))
            .expression_attribute_values(":change", n(change.seq));
        update = match target.updated_seq() {
            Some(seq) => update
                .condition_expression("attribute_not_exists(deleted) AND updatedSeq = :read")
                .expression_attribute_values(":read", n(seq)),
            None => update
                .condition_expression("attribute_exists(chatId) AND attribute_not_exists(deleted) AND attribute_not_exists(updatedSeq)"),
        };
        update = match how {
            TargetChange::Edit { text } => {
                let version =
                    VersionItem { message: target.view.message.clone(), edited_at: target.view.edited_at, replaced_at_seq: change.seq };
                update
                    .update_expression("SET message = :text, editedAt = :at, updatedSeq = :change, versions = list_append(if_not_exists(versions, :none), :version)")
                    .expression_attribute_values(":text", s(text))
                    .expression_attribute_values(":at", n(change.at))
                    .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
                    .expression_attribute_values(":version", AttributeValue::L(vec![AttributeValue::M(serde_dynamo::to_item(version)?)]))
            }
            TargetChange::Delete { attachments } => {
                for attachment in attachments {
                    actions.push(unmark_sent(&tables.attachments, attachment, target.view.seq, change.at)?);
                }
                let deletion = DeletionItem { by: change.user_id.clone(), at: change.at, seq: change.seq };
                update
                    .update_expression(
                        "SET message = :empty, deleted = :deletion, updatedSeq = :change REMOVE attachments, versions, reactions, replyTo, mentions, editedAt",
                    )
                    .expression_attribute_values(":empty", s(""))
                    .expression_attribute_values(":deletion", AttributeValue::M(serde_dynamo::to_item(deletion)?))
            }
            TargetChange::React { emoji } => {
                let mut reactions = target.reactions.clone();
                match emoji {
                    Some(emoji) => {
                        reactions.insert(change.user_id.clone(), ReactionItem { emoji: emoji.to_owned(), seq: change.seq, at: change.at });
                    }
                    None => {
                        reactions.remove(&change.user_id);
                    }
                }
                update
                    .update_expression("SET reactions = :reactions, updatedSeq = :change")
                    .expression_attribute_values(":reactions", AttributeValue::M(serde_dynamo::to_item(reactions)?))
            }
        };
        actions.push(TransactWriteItem::builder().update(update.build()?).build());
        for entry in inbox.unwrap_or_default() {
            actions.push(put(&tables.inbox, serde_dynamo::to_item(entry)?, None)?);
        }
        match self.client.transact_write_items().set_transact_items(Some(actions)).send().await {
            Ok(_) => Ok(AppendOutcome::Appended),
            Err(err) => changed_or(err),
        }
    }

    async fn inbox_written(&self, chat_id: &str, sender_id: &UserId, client_message_id: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.tables.client_message_ids)
            .key("chatId", s(chat_id))
            .key("clientKey", s(client_key(sender_id, client_message_id)))
            .update_expression("SET inboxWritten = :yes")
            .condition_expression("attribute_exists(chatId)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await?;
        Ok(())
    }

    async fn find_accepted(&self, chat_id: &str, sender_id: &UserId, client_message_id: &str) -> Result<Option<Accepted>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.client_message_ids)
            .key("chatId", s(chat_id))
            .key("clientKey", s(client_key(sender_id, client_message_id)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item.map(serde_dynamo::from_item).transpose()?)
    }

    async fn senders_between(&self, chat_id: &str, from: u64, to: u64) -> Result<Vec<String>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.messages)
            .key_condition_expression("chatId = :c AND seq BETWEEN :from AND :to")
            .projection_expression("senderId")
            .expression_attribute_values(":c", s(chat_id))
            .expression_attribute_values(":from", n(from))
            .expression_attribute_values(":to", n(to));
        let senders: std::collections::BTreeSet<String> =
            self.query_all(query).await?.iter().filter_map(|item| item.get("senderId")?.as_s().ok().cloned()).collect();
        Ok(senders.into_iter().collect())
    }

    async fn get_message(&self, chat_id: &str, seq: u64) -> Result<Option<MessageView>, StoreError> {
        Ok(match self.get_entry(chat_id, seq).await? {
            Some(ChatEntry::Message(message)) => Some(message.view_at(u64::MAX)),
            _ => None,
        })
    }

    async fn get_entry(&self, chat_id: &str, seq: u64) -> Result<Option<ChatEntry>, StoreError> {
        self.item_at(chat_id, seq, None).await?.map(read_entry).transpose()
    }

    async fn events_up_to(&self, chat_id: &str, seq: u64) -> Result<u64, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.tables.messages)
            .key_condition_expression("chatId = :c AND seq <= :seq")
            .expression_attribute_values(":c", s(chat_id))
            .expression_attribute_values(":seq", n(seq))
            .projection_expression("events")
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await?;
        let item = out.items.unwrap_or_default().into_iter().next();
        Ok(item.and_then(|item| item.get("events")?.as_n().ok()?.parse().ok()).unwrap_or(0))
    }

    async fn entries_between(
        &self,
        chat_id: &str,
        from: u64,
        to: u64,
        ascending: bool,
        limit: usize,
    ) -> Result<Vec<ChatEntry>, StoreError> {
        let mut messages = Vec::new();
        let mut start = None;
        while messages.len() < limit {
            let page = self
                .client
                .query()
                .table_name(&self.tables.messages)
                .key_condition_expression("chatId = :c AND seq BETWEEN :from AND :to")
                .expression_attribute_values(":c", s(chat_id))
                .expression_attribute_values(":from", n(from))
                .expression_attribute_values(":to", n(to))
                .scan_index_forward(ascending)
                .limit((limit - messages.len()) as i32)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in page.items.unwrap_or_default() {
                messages.push(read_entry(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(messages)
    }

    async fn entries_by_key(&self, keys: &[(String, u64)]) -> Result<Vec<ChatEntry>, StoreError> {
        let keys = keys
            .iter()
            .map(|(chat, seq)| std::collections::HashMap::from([("chatId".to_owned(), s(chat)), ("seq".to_owned(), n(seq))]))
            .collect();
        let items = self.batch_get(&self.tables.messages, keys, None).await?;
        items.into_iter().map(read_entry).collect()
    }

    async fn claim_client_message_id(&self, accepted: &Accepted) -> Result<bool, StoreError> {
        self.put_new(&self.tables.client_message_ids, serde_dynamo::to_item(accepted)?, "chatId").await
    }

    async fn move_claim(&self, accepted: &Accepted, to: u64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.client_message_ids)
            .key("chatId", s(&accepted.chat_id))
            .key("clientKey", s(&accepted.client_key))
            .update_expression("SET seq = :to")
            .condition_expression("seq = :from")
            .expression_attribute_values(":to", n(to))
            .expression_attribute_values(":from", n(accepted.seq))
            .send()
            .await;
        applied(result)
    }

    async fn put_message(&self, message: &MessageView, events: u64) -> Result<bool, StoreError> {
        let item = MessageItem { events, ..MessageItem::from(message) };
        self.put_new(&self.tables.messages, serde_dynamo::to_item(item)?, "chatId").await
    }

    async fn message_written(
        &self,
        message: &MessageView,
        events: u64,
        attachments: &[Attachment],
        inbox: &[InboxEntry],
    ) -> Result<(), StoreError> {
        let tables = &self.tables;
        let mut updates = vec![sender_read_forward(&tables.memberships, &message.sender_id, &message.chat_id, message.seq, events)?];
        for mentioned in &message.mentions {
            updates.push(add_mention(&tables.memberships, mentioned, &message.chat_id, message.seq)?);
        }
        for attachment in attachments {
            updates.push(mark_sent(&tables.attachments, attachment, message.seq)?);
        }
        // (A read marker that a later send moved past already stays.)
        let writes = futures::future::try_join_all(updates.into_iter().map(|update| self.update_one(update)));
        let (_, ()) = futures::future::try_join(writes, self.put_inbox_entries(inbox)).await?;
        Ok(())
    }

    async fn fill_hole(&self, chat_id: &str, seq: u64, events: u64, message: bool, now_ms: u64) -> Result<bool, StoreError> {
        if message {
            self.count_hole(chat_id, seq, true).await?;
        }
        let hole = HoleItem { chat_id: chat_id.to_owned(), seq, kind: HOLE.to_owned(), events, message, filled_at: now_ms };
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.messages)
            .set_item(Some(serde_dynamo::to_item(hole)?))
            .condition_expression("attribute_not_exists(chatId)")
            .return_values_on_condition_check_failure(aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if super::condition_failed(&e) => {
                let there = match e.as_service_error() {
                    Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c)) => c.item.clone(),
                    _ => None,
                };
                let counted_hole =
                    there.map(read_entry).transpose()?.is_some_and(|entry| matches!(entry, ChatEntry::Hole { message: true, .. }));
                if message && !counted_hole {
                    self.count_hole(chat_id, seq, false).await?;
                }
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The transaction actions [`MessageTable::append_change`] takes besides inbox entries.
pub fn change_actions(how: &TargetChange<'_>) -> usize {
    3 + match how {
        TargetChange::Delete { attachments } => attachments.len(),
        _ => 0,
    }
}

impl DynamoStore {
    /// The item at (chat, seq), strongly consistent, or some of its attributes.
    async fn item_at(&self, chat_id: &str, seq: u64, projection: Option<&str>) -> Result<Option<super::Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.messages)
            .key("chatId", s(chat_id))
            .key("seq", n(seq))
            .set_projection_expression(projection.map(str::to_owned))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item)
    }
}

/// How long a taken seq may stay empty before a reader fills it with a hole.
/// A send writes its message well within its function's timeout (15 s); a
/// taker that finds its seq filled anyway (it was slower than this) takes
/// another, so the bound trades how long a reader may see a gap against how
/// often a slow send takes a second seq — it never loses or doubles one.
pub const HOLE_FILL_AFTER_MS: u64 = 10_000;

/// A cancelled transaction whose conditions failed or that conflicted with
/// another: the chat changed since it was read (read again and retry).
fn changed_or(
    err: aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> Result<AppendOutcome, StoreError> {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() {
        let codes: Vec<&str> = cancelled.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect();
        if codes.iter().all(|c| matches!(*c, "None" | "ConditionalCheckFailed" | "TransactionConflict")) {
            return Ok(AppendOutcome::ChatChanged);
        }
    }
    if err.as_service_error().is_some_and(TransactWriteItemsError::is_transaction_in_progress_exception) {
        return Ok(AppendOutcome::ChatChanged);
    }
    Err(err.into())
}

fn put(table: &str, item: super::Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder().table_name(table).set_item(Some(item)).set_condition_expression(condition.map(str::to_owned)).build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

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
