//! Memberships table: one item per (user, chat) holding that member's own
//! state — how far they have read and received, which messages mention them,
//! and, once removed, the last seq they may see. Partitioned by user for the
//! chat list; the `byChatKeys` index lists a chat's members (keys only, so
//! the markers that change with every message are written once).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use async_trait::async_trait;

use super::{DynamoStore, Item, applied, condition_failed, n, s};
use crate::error::StoreError;
use crate::ports::MembershipTable;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub user_id: String,
    pub chat_id: String,
    /// The chat's seq when the member joined.
    #[serde(default)]
    pub joined_at_seq: u64,
    #[serde(default)]
    pub last_read: u64,
    /// Changes (not messages) with seq up to `last_read`: unread counts skip them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub read_events: u64,
    /// Highest seq any of the member's devices acknowledged.
    #[serde(default)]
    pub last_delivered: u64,
    /// Seqs of messages that mention this member (pruned once read).
    #[serde(default, with = "serde_dynamo::number_set", skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at_seq: Option<u64>,
    /// Changes with seq up to `removed_at_seq`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub removed_events: u64,
    /// Seqs of messages the member deleted for themself.
    #[serde(default, with = "serde_dynamo::number_set", skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<u64>,
    /// Pushes for this chat say only that something arrived.
    #[serde(default)]
    pub muted: bool,
    /// Once removed: when (milliseconds), and the chat's members and admins
    /// right after — what the removed member's chat list keeps showing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_at_removal: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admins_at_removal: Option<Vec<String>>,
    /// The group's name and description when the member was removed (absent
    /// on removals recorded before it was kept: then the chat's own show).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_at_removal: Option<ChatInfoAtRemoval>,
    /// Earlier memberships of a member removed and added again: what they
    /// could see then stays visible.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<EarlierMembership>,
    /// Not accepted yet (a message request or invitation): listed apart,
    /// pushed without a preview, and no read receipts go out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub request: bool,
    /// Who created the chat or added the member, while it is a request:
    /// accepting makes them someone the member knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A group's name and description as a removed member last saw them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatInfoAtRemoval {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A past membership: messages with seq in `(joined_at_seq, removed_at_seq]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EarlierMembership {
    pub joined_at_seq: u64,
    pub removed_at_seq: u64,
}

impl Membership {
    /// A member joining when the chat's last seq is `joined_at_seq`, of
    /// which `events` were changes.
    pub fn new(user_id: &str, chat_id: &str, joined_at_seq: u64, events: u64) -> Self {
        Self {
            user_id: user_id.into(),
            chat_id: chat_id.into(),
            joined_at_seq,
            last_read: joined_at_seq,
            read_events: events,
            last_delivered: joined_at_seq,
            ..Default::default()
        }
    }

    /// The same membership, as a request from `inviter`.
    pub fn requested_by(self, inviter: &str) -> Self {
        Self { request: true, invited_by: Some(inviter.to_owned()), ..self }
    }

    /// The last seq this member may see.
    pub fn visible_until(&self, chat_seq: u64) -> u64 {
        self.removed_at_seq.map_or(chat_seq, |removed| removed.min(chat_seq))
    }

    /// Unread messages (changes are not counted) in a chat whose last seq is
    /// `chat_seq`, `chat_events` of them changes, `holes` of them seqs taken
    /// for messages that were never written.
    pub fn unread(&self, chat_seq: u64, chat_events: u64, holes: &[u64]) -> u64 {
        let (visible, events) = match self.removed_at_seq {
            Some(removed) if removed < chat_seq => (removed, self.removed_events),
            _ => (chat_seq, chat_events),
        };
        let messages_visible = visible.saturating_sub(events);
        let messages_read = self.last_read.saturating_sub(self.read_events);
        let never_written = holes.iter().filter(|&&h| h > self.last_read && h <= visible).count() as u64;
        messages_visible.saturating_sub(messages_read).saturating_sub(never_written)
    }

    pub fn has_hidden(&self, seq: u64) -> bool {
        self.hidden.contains(&seq)
    }

    /// Whether the message at `seq` was meant for this member: sent after they
    /// joined and not after they were removed (in this or an earlier membership).
    pub fn sees(&self, seq: u64) -> bool {
        self.visible_ranges(u64::MAX).iter().any(|(from, to)| (*from..=*to).contains(&seq))
    }

    /// The seq ranges (inclusive, ascending, non-empty) of messages this member
    /// may see in a chat whose last seq is `chat_seq`.
    pub fn visible_ranges(&self, chat_seq: u64) -> Vec<(u64, u64)> {
        let mut ranges: Vec<(u64, u64)> = self.earlier.iter().map(|e| (e.joined_at_seq + 1, e.removed_at_seq)).collect();
        ranges.push((self.joined_at_seq + 1, self.visible_until(chat_seq)));
        ranges.retain(|(from, to)| from <= to);
        ranges.sort_unstable();
        ranges
    }

    /// A new membership for someone added (back) to a chat at `seq`; what a
    /// former membership let them see stays visible.
    pub fn rejoined(previous: Option<Membership>, user_id: &str, chat_id: &str, seq: u64, events: u64) -> Self {
        let mut membership = Self::new(user_id, chat_id, seq, events);
        if let Some(previous) = previous {
            membership.earlier = previous.earlier;
            if let Some(removed_at_seq) = previous.removed_at_seq {
                membership.earlier.push(EarlierMembership { joined_at_seq: previous.joined_at_seq, removed_at_seq });
            }
            membership.muted = previous.muted;
        }
        membership
    }
}

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
    chat: &super::Chat,
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

/// How one membership changes together with the chat's member list.
// (One per membership change, on the stack for its transaction: no need to box.)
#[expect(clippy::large_enum_variant)]
pub enum MemberChange {
    /// The user joins (or rejoins) with this membership.
    Join(Membership),
    /// The user leaves or is removed, at the chat's current seq.
    Leave { user_id: String, at_ms: u64 },
    /// Only the chat's admins change (promote, demote): no membership is written.
    Admins,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_added_back_sees_both_memberships_and_not_the_gap() {
        let first = Membership { removed_at_seq: Some(4), ..Membership::new("bob", "g", 1, 0) };
        let back = Membership::rejoined(Some(first), "bob", "g", 9, 0);
        assert_eq!(back.visible_ranges(12), [(2, 4), (10, 12)]);
        let seen: Vec<u64> = (0..=13).filter(|seq| back.sees(*seq)).collect();
        assert_eq!(seen, [2, 3, 4, 10, 11, 12, 13], "later messages too, while a member");
        let removed = Membership { removed_at_seq: Some(11), ..back };
        assert!(removed.sees(11) && !removed.sees(12));
    }
}

#[cfg(test)]
mod unread_tests {
    use super::*;

    #[test]
    fn changes_are_not_unread_messages() {
        // Joined at 2 (1 change before), read up to 5 (2 changes by then).
        let member = Membership { last_read: 5, read_events: 2, ..Membership::new("bob", "g", 2, 1) };
        // The chat at 9 with 4 changes: messages 9-4 = 5, read 5-2 = 3.
        assert_eq!(member.unread(9, 4, &[]), 2);
        // Only changes since: nothing unread.
        assert_eq!(member.unread(7, 4, &[]), 0);
        let removed = Membership { removed_at_seq: Some(6), removed_events: 2, ..member };
        assert_eq!(removed.unread(20, 10, &[]), 1, "counted up to the removal only");
    }

    #[test]
    fn a_message_that_was_never_written_is_not_unread() {
        let member = Membership { last_read: 5, read_events: 2, ..Membership::new("bob", "g", 2, 1) };
        // Seqs 3 (read already), 7 (unread) and 12 (after the chat's end) were holes.
        assert_eq!(member.unread(9, 4, &[3, 7, 12]), 1);
        let removed = Membership { removed_at_seq: Some(6), removed_events: 2, ..member };
        assert_eq!(removed.unread(20, 10, &[6, 7]), 0, "a hole at the removal seq is not unread either");
    }
}
