//! Messages table (partition: chat, sort: seq; kept for ever) and the
//! client-message-id table that makes `sendMessage` idempotent.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::attachments::mark_sent;
use super::memberships::{add_mention, sender_read_up_to};
use super::{Attachment, InboxEntry, Store, n, s};
use crate::error::StoreError;
use crate::protocol::{AttachmentView, MessageView, Quote};
use crate::store::Chat;

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
        }
    }
}

impl From<MessageItem> for MessageView {
    fn from(m: MessageItem) -> Self {
        MessageView {
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
            }),
        }
    }
}

fn read_message(item: super::Item) -> Result<MessageView, StoreError> {
    Ok(serde_dynamo::from_item::<_, MessageItem>(item)?.into())
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
    /// The chat changed (another message took the seq, or membership changed)
    /// since it was read: read again and retry.
    ChatChanged,
    /// This sender's `clientMessageId` was already accepted in this chat.
    Duplicate,
}

impl Store {
    /// The transaction actions [`Store::append_message`] takes besides inbox
    /// entries: chat, message, idempotency record, the sender's read marker,
    /// one per mention and one per attachment.
    pub fn append_actions(message: &MessageView, attachments: &[Attachment]) -> usize {
        4 + message.mentions.len() + attachments.len()
    }

    /// Stores a message as the chat's next seq, in one transaction with the
    /// idempotency record, the sender's read marker (up to their own message),
    /// the mentions, the attachments it takes, and the inbox entries (`None`:
    /// too many for one transaction; the caller writes them and calls
    /// [`Store::inbox_written`]). The chat update is conditioned on the seq and
    /// membership version that were read, so seq numbers have no gaps and a
    /// send never races a membership change.
    pub async fn append_message(
        &self,
        chat: &Chat,
        message: &MessageView,
        attachments: &[Attachment],
        accepted_expires_at: u64,
        inbox: Option<&[InboxEntry]>,
    ) -> Result<AppendOutcome, StoreError> {
        let tables = &self.tables;
        let chat_update = Update::builder()
            .table_name(&tables.chats)
            .key("chatId", s(&chat.chat_id))
            .update_expression("SET seq = :next, lastActiveAt = :now")
            .condition_expression("seq = :seq AND version = :version AND contains(members, :sender)")
            .expression_attribute_values(":next", n(message.seq))
            .expression_attribute_values(":now", n(message.sent_at))
            .expression_attribute_values(":seq", n(chat.seq))
            .expression_attribute_values(":version", n(chat.version))
            .expression_attribute_values(":sender", s(&message.sender_id))
            .build()?;
        let accepted = Accepted {
            chat_id: chat.chat_id.clone(),
            client_key: client_key(&message.sender_id, &message.client_message_id),
            message_id: message.message_id.clone(),
            seq: message.seq,
            expires_at: accepted_expires_at,
            inbox_written: inbox.is_some(),
        };
        let mut actions = vec![
            TransactWriteItem::builder().update(chat_update).build(),
            put(&tables.messages, serde_dynamo::to_item(MessageItem::from(message))?, Some("attribute_not_exists(chatId)"))?,
            put(&tables.client_message_ids, serde_dynamo::to_item(&accepted)?, Some("attribute_not_exists(chatId)"))?,
        ];
        actions.push(sender_read_up_to(&tables.memberships, &message.sender_id, &chat.chat_id, message.seq)?);
        for mentioned in &message.mentions {
            actions.push(add_mention(&tables.memberships, mentioned, &chat.chat_id, message.seq)?);
        }
        for attachment in attachments {
            actions.push(mark_sent(&tables.attachments, attachment, message.seq)?);
        }
        for entry in inbox.unwrap_or_default() {
            actions.push(put(&tables.inbox, serde_dynamo::to_item(entry)?, None)?);
        }
        match self.client.transact_write_items().set_transact_items(Some(actions)).send().await {
            Ok(_) => Ok(AppendOutcome::Appended),
            Err(err) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() {
                    let codes: Vec<&str> = cancelled.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect();
                    if codes.get(2) == Some(&"ConditionalCheckFailed") {
                        return Ok(AppendOutcome::Duplicate);
                    }
                    if codes.iter().all(|c| matches!(*c, "None" | "ConditionalCheckFailed" | "TransactionConflict")) {
                        return Ok(AppendOutcome::ChatChanged);
                    }
                }
                if err.as_service_error().is_some_and(TransactWriteItemsError::is_transaction_in_progress_exception) {
                    return Ok(AppendOutcome::ChatChanged);
                }
                Err(err.into())
            }
        }
    }

    /// Marks a message's inbox entries written (after a separate write).
    pub async fn inbox_written(&self, chat_id: &str, sender_id: &str, client_message_id: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.tables.client_message_ids)
            .key("chatId", s(chat_id))
            .key("clientKey", s(client_key(sender_id, client_message_id)))
            .update_expression("SET inboxWritten = :yes")
            .condition_expression("attribute_exists(chatId)")
            .expression_attribute_values(":yes", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .send()
            .await?;
        Ok(())
    }

    pub async fn find_accepted(&self, chat_id: &str, sender_id: &str, client_message_id: &str) -> Result<Option<Accepted>, StoreError> {
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

    /// Distinct senders of a chat's messages with seq in `[from, to]`.
    pub async fn senders_between(&self, chat_id: &str, from: u64, to: u64) -> Result<Vec<String>, StoreError> {
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

    pub async fn get_message(&self, chat_id: &str, seq: u64) -> Result<Option<MessageView>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.messages)
            .key("chatId", s(chat_id))
            .key("seq", n(seq))
            .consistent_read(true)
            .send()
            .await?;
        out.item.map(read_message).transpose()
    }
}

impl Store {
    /// Up to `limit` messages of a chat with seq in `[from, to]`, ascending or
    /// descending by seq (one Query, more pages only past DynamoDB's 1 MB).
    pub async fn messages_between(
        &self,
        chat_id: &str,
        from: u64,
        to: u64,
        ascending: bool,
        limit: usize,
    ) -> Result<Vec<MessageView>, StoreError> {
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
                messages.push(read_message(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(messages)
    }

    /// Messages by (chat, seq), one BatchGetItem per 100.
    pub async fn messages_by_key(&self, keys: &[(String, u64)]) -> Result<Vec<MessageView>, StoreError> {
        let keys = keys
            .iter()
            .map(|(chat, seq)| std::collections::HashMap::from([("chatId".to_owned(), s(chat)), ("seq".to_owned(), n(seq))]))
            .collect();
        let items = self.batch_get(&self.tables.messages, keys, None).await?;
        items.into_iter().map(read_message).collect()
    }
}

fn put(table: &str, item: super::Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder().table_name(table).set_item(Some(item)).set_condition_expression(condition.map(str::to_owned)).build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}
