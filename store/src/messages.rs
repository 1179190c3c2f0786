//! Messages table (partition: chat, sort: seq; kept for ever) and the
//! client-message-id table that makes `sendMessage` idempotent.
//!
//! A chat's seqs number its messages and the changes to them (edits,
//! deletions for everyone, reactions) in one sequence. A message item holds
//! the message as it is now, with what it was before each edit and who
//! reacted when, so history can show it as it was at any seq; a change item
//! (`kind` set) records the change at its own seq.

use super::attachments::{mark_sent, unmark_sent};
use super::memberships::{add_mention, sender_read_forward};
use super::{DynamoStore, applied, n, s};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use domain::error::StoreError;
use domain::ids::UserId;
use domain::model::chats::Taken;
use domain::model::messages::{
    Accepted, AppendOutcome, ChangeItem, ChatEntry, DeletionItem, HOLE, HoleItem, Message, MessageItem, ReactionItem, StoredEntry,
    TargetChange, VersionItem, client_key,
};
use domain::model::{Attachment, InboxEntry};
use domain::ports::{InboxTable, MessageTable};
use domain::protocol::{MessageChange, MessageView};

/// A message, a change or a hole, told apart by `kind`.
pub(super) fn read_entry(item: super::Item) -> Result<ChatEntry, StoreError> {
    let stored = if item.get("kind").and_then(|k| k.as_s().ok()).is_some_and(|k| k == HOLE) {
        StoredEntry::Hole(serde_dynamo::from_item(item)?)
    } else if item.contains_key("kind") {
        StoredEntry::Change(serde_dynamo::from_item(item)?)
    } else {
        StoredEntry::Message(serde_dynamo::from_item(item)?)
    };
    stored.try_into()
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
                let mut reactions = target.reactions().clone();
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
