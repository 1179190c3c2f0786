//! Memberships table: one item per (user, chat) holding that member's own
//! state — how far they have read and received, which messages mention them,
//! and, once removed, the last seq they may see. Partitioned by user for the
//! chat list; the `byChatKeys` index lists a chat's members (keys only, so
//! the markers that change with every message are written once).

use super::{DynamoStore, Item, applied, condition_failed, n, s};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use domain::error::StoreError;
use domain::model::memberships::{ChatInfoAtRemoval, Membership};
use domain::ports::MembershipTable;
use std::collections::HashMap;

fn key(user_id: &str, chat_id: &str) -> Item {
    HashMap::from([("userId".to_owned(), s(user_id)), ("chatId".to_owned(), s(chat_id))])
}

fn built<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Build(e.to_string()))
}

pub(crate) fn put_membership(table: &str, membership: &Membership) -> Result<TransactWriteItem, StoreError> {
    let put = built(Put::builder().table_name(table).set_item(Some(serde_dynamo::to_item(membership)?)).build())?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Transaction action on one membership: `expression` with `:seq` bound to `value`.
fn member_update(
    table: &str,
    user_id: &str,
    chat_id: &str,
    expression: &str,
    value: AttributeValue,
) -> Result<TransactWriteItem, StoreError> {
    let update = built(
        Update::builder()
            .table_name(table)
            .set_key(Some(key(user_id, chat_id)))
            .update_expression(expression)
            .expression_attribute_values(":seq", value)
            .build(),
    )?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// The sender has read everything up to their own message, outside a
/// transaction: only forward (their sends on two devices may land out of
/// order), and only on a membership that exists.
pub(crate) fn sender_read_forward(
    table: &str,
    user_id: &str,
    chat_id: &str,
    seq: u64,
    events: u64,
) -> Result<TransactWriteItem, StoreError> {
    let update = built(
        Update::builder()
            .table_name(table)
            .set_key(Some(key(user_id, chat_id)))
            .update_expression("SET lastRead = :seq, readEvents = :events")
            .condition_expression("attribute_exists(chatId) AND (attribute_not_exists(lastRead) OR lastRead < :seq)")
            .expression_attribute_values(":seq", n(seq))
            .expression_attribute_values(":events", n(events))
            .build(),
    )?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// Transaction action: record that `seq` mentions the member.
pub(crate) fn add_mention(table: &str, user_id: &str, chat_id: &str, seq: u64) -> Result<TransactWriteItem, StoreError> {
    member_update(table, user_id, chat_id, "ADD mentions :seq", AttributeValue::Ns(vec![seq.to_string()]))
}

/// Transaction action: the member leaves at `seq` (at `now_ms`), leaving
/// these members and admins behind.
pub(crate) fn remove_at(
    table: &str,
    user_id: &str,
    chat: &domain::model::Chat,
    now_ms: u64,
    members: &[String],
    admins: &[String],
) -> Result<TransactWriteItem, StoreError> {
    let list = |ids: &[String]| AttributeValue::L(ids.iter().map(s).collect());
    let update = built(
        Update::builder()
            .table_name(table)
            .set_key(Some(key(user_id, &chat.chat_id)))
            .update_expression(
                "SET removedAtSeq = :seq, removedEvents = :events, removedAt = :at, membersAtRemoval = :members, adminsAtRemoval = :admins, infoAtRemoval = :info",
            )
            .expression_attribute_values(":seq", n(chat.seq))
            .expression_attribute_values(":events", n(chat.events))
            .expression_attribute_values(":at", n(now_ms))
            .expression_attribute_values(":members", list(members))
            .expression_attribute_values(":admins", list(admins))
            .expression_attribute_values(
                ":info",
                AttributeValue::M(serde_dynamo::to_item(ChatInfoAtRemoval { name: chat.name.clone(), description: chat.description.clone() })?),
            )
            .build(),
    )?;
    Ok(TransactWriteItem::builder().update(update).build())
}

#[async_trait]
impl MembershipTable for DynamoStore {
    async fn membership(&self, user_id: &str, chat_id: &str) -> Result<Option<Membership>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.memberships)
            .set_key(Some(key(user_id, chat_id)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item.map(serde_dynamo::from_item).transpose()?)
    }

    async fn memberships_of_user(&self, user_id: &str) -> Result<Vec<Membership>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.memberships)
            .key_condition_expression("userId = :u")
            .expression_attribute_values(":u", s(user_id));
        Ok(self.query_all(query).await?.into_iter().map(serde_dynamo::from_item).collect::<Result<_, _>>()?)
    }

    async fn memberships_of_chat(&self, chat_id: &str) -> Result<Vec<Membership>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.memberships)
            .index_name("byChatKeys")
            .key_condition_expression("chatId = :c")
            .expression_attribute_values(":c", s(chat_id));
        let keys: Vec<(String, String)> = self
            .query_all(query)
            .await?
            .iter()
            .filter_map(|item| Some((item.get("userId")?.as_s().ok()?.clone(), chat_id.to_owned())))
            .collect();
        self.memberships_by_key(&keys).await
    }

    async fn mark_read(&self, user_id: &str, chat_id: &str, up_to_seq: u64, events: u64) -> Result<Option<Membership>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.memberships)
            .set_key(Some(key(user_id, chat_id)))
            .update_expression("SET lastRead = :seq, readEvents = :events")
            .expression_attribute_values(":events", n(events))
            .condition_expression(
                "attribute_exists(chatId) AND lastRead < :seq AND (attribute_not_exists(removedAtSeq) OR removedAtSeq >= :seq)",
            )
            .expression_attribute_values(":seq", n(up_to_seq))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.attributes.map(serde_dynamo::from_item).transpose()?),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn clear_chat(&self, user_id: &str, chat_id: &str, through_seq: u64, events: u64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.memberships)
            .set_key(Some(key(user_id, chat_id)))
            // Read up to there too: a deleted chat has nothing unread, nor mentions.
            .update_expression("SET clearedThrough = :seq, lastRead = :seq, readEvents = :events REMOVE mentions")
            .condition_expression(
                "attribute_exists(chatId) AND lastRead <= :seq AND (attribute_not_exists(clearedThrough) OR clearedThrough <= :seq)",
            )
            .expression_attribute_values(":seq", n(through_seq))
            .expression_attribute_values(":events", n(events))
            .send()
            .await;
        applied(result)
    }

    async fn set_muted(&self, user_id: &str, chat_id: &str, muted: bool) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.memberships)
            .set_key(Some(key(user_id, chat_id)))
            .update_expression("SET muted = :muted")
            .condition_expression("attribute_exists(chatId) AND attribute_not_exists(removedAtSeq)")
            .expression_attribute_values(":muted", AttributeValue::Bool(muted))
            .send()
            .await;
        applied(result)
    }

    async fn memberships_by_key(&self, keys: &[(String, String)]) -> Result<Vec<Membership>, StoreError> {
        let keys = keys.iter().map(|(u, c)| key(u, c)).collect();
        let items = self.batch_get(&self.tables.memberships, keys, None).await?;
        Ok(items.into_iter().map(serde_dynamo::from_item).collect::<Result<_, _>>()?)
    }

    async fn hide_message(&self, user_id: &str, chat_id: &str, seq: u64, max: usize) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.memberships)
            .set_key(Some(key(user_id, chat_id)))
            // (`hidden` is one of DynamoDB's reserved words.)
            .update_expression("ADD #hidden :seq")
            .condition_expression(
                "attribute_exists(chatId) AND (attribute_not_exists(#hidden) OR size(#hidden) < :max OR contains(#hidden, :one))",
            )
            .expression_attribute_names("#hidden", "hidden")
            .expression_attribute_values(":seq", AttributeValue::Ns(vec![seq.to_string()]))
            .expression_attribute_values(":max", n(max))
            .expression_attribute_values(":one", n(seq))
            .send()
            .await;
        applied(result)
    }

    async fn forget_mentions(&self, user_id: &str, chat_id: &str, seqs: &[u64]) -> Result<(), StoreError> {
        if seqs.is_empty() {
            return Ok(());
        }
        self.client
            .update_item()
            .table_name(&self.tables.memberships)
            .set_key(Some(key(user_id, chat_id)))
            .update_expression("DELETE mentions :seqs")
            .expression_attribute_values(":seqs", AttributeValue::Ns(seqs.iter().map(u64::to_string).collect()))
            .send()
            .await?;
        Ok(())
    }

    async fn advance_delivered(&self, user_id: &str, chat_id: &str, seq: u64, device_id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.memberships)
            .set_key(Some(key(user_id, chat_id)))
            .update_expression("SET lastDelivered = :seq, deliveredBy = :by")
            .condition_expression(
                "attribute_exists(chatId) AND (attribute_not_exists(lastDelivered) OR lastDelivered < :seq OR (lastDelivered = :seq AND deliveredBy = :by))",
            )
            .expression_attribute_values(":seq", n(seq))
            .expression_attribute_values(":by", s(device_id))
            .send()
            .await;
        applied(result)
    }
}
