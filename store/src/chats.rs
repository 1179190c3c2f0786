//! Chats table: one item per chat holding its members (a string set, at most
//! 100) and a membership `version`, and beside it the chat's small counter
//! item (`<chatId>#seq`) that hands out its seqs.
//!
//! A send reads the chat item (its members at `version`), then takes the next
//! seq with one `UpdateItem ADD` on the counter conditioned on the counter
//! still holding that `version`. A membership change writes the chat item
//! and the counter's `version` in one transaction conditioned on the
//! counter's `seq` being the one it read. So every seq taken with version V
//! was taken while the members were V's: the membership in force at a seq is
//! the one its sender read. Sends never conflict with each other (DynamoDB
//! serialises `ADD` on one item), and what each rewrites is well under 1 KB
//! — the member list is not rewritten by sends.
//!
//! Chats from before the counter keep their seq on the chat item; the first
//! take creates the counter from it (`if_not_exists`).

use super::memberships::{put_membership, remove_at};
use super::{DynamoStore, applied, n, s};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use domain::error::StoreError;
use domain::model::chats::{COUNTER_SUFFIX, Chat, CounterItem, Taken, Taking, counter_key};
use domain::model::memberships::MemberChange;
use domain::ports::ChatTable;

/// Whether a cancelled transaction failed on its first action's condition
/// (the chat item), as opposed to a conflict or another item.
fn first_condition_failed(err: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> Option<bool> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            Some(e.cancellation_reasons().first().and_then(|r| r.code()) == Some("ConditionalCheckFailed"))
        }
        _ => None,
    }
}

fn string_set(values: &[String]) -> AttributeValue {
    AttributeValue::Ss(values.to_vec())
}

#[async_trait]
impl ChatTable for DynamoStore {
    async fn create_chat(&self, chat: &Chat) -> Result<bool, StoreError> {
        let table = &self.tables.memberships;
        let (first, memberships) = chat.first_memberships();
        if let Some(first) = first {
            self.client.put_item().table_name(table).set_item(Some(serde_dynamo::to_item(&first)?)).send().await?;
        }
        let put_chat = Put::builder()
            .table_name(&self.tables.chats)
            .set_item(Some(serde_dynamo::to_item(chat)?))
            .condition_expression("attribute_not_exists(chatId)")
            .build()?;
        let mut actions = vec![TransactWriteItem::builder().put(put_chat).build()];
        for membership in &memberships {
            actions.push(put_membership(table, membership)?);
        }
        match self.client.transact_write_items().set_transact_items(Some(actions)).send().await {
            Ok(_) => Ok(true),
            Err(e) if first_condition_failed(&e) == Some(true) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn change_members(&self, read: &Chat, members: &[String], admins: &[String], change: MemberChange) -> Result<bool, StoreError> {
        let table = &self.tables.memberships;
        let membership_change = match &change {
            MemberChange::Join(membership) => Some(put_membership(table, membership)?),
            MemberChange::Leave { user_id, at_ms } => Some(remove_at(table, user_id, read, *at_ms, members, admins)?),
            MemberChange::Admins => None,
        };
        let mut set = vec!["version = :next"];
        if let MemberChange::Join(_) = &change {
            set.push("lastJoinSeq = :seq");
        }
        let mut remove = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.tables.chats)
            .key("chatId", s(&read.chat_id))
            .expression_attribute_values(":next", n(read.version + 1));
        if matches!(change, MemberChange::Join(_)) {
            update = update.expression_attribute_values(":seq", n(read.seq));
        }
        // The counter's seq is the one conditioned on (its own action,
        // below); the chat item's version only has to be the one read.
        update = update.condition_expression("version = :version").expression_attribute_values(":version", n(read.version));
        // DynamoDB has no empty sets: an empty list of ids removes the attribute.
        for (name, placeholder, values) in [("members", ":members", members), ("admins", ":admins", admins)] {
            if values.is_empty() {
                remove.push(name);
            } else {
                set.push(if name == "members" { "members = :members" } else { "admins = :admins" });
                update = update.expression_attribute_values(placeholder, string_set(values));
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        match &change {
            MemberChange::Join(membership) if membership.request => {
                expression.push_str(" ADD requested :requested");
                update = update.expression_attribute_values(":requested", string_set(std::slice::from_ref(&membership.user_id)));
            }
            MemberChange::Leave { user_id, .. } if read.is_requested(user_id) => {
                expression.push_str(" DELETE requested :requested");
                update = update.expression_attribute_values(":requested", string_set(std::slice::from_ref(user_id)));
            }
            _ => {}
        }
        let update = update.update_expression(expression).build()?;
        let mut actions = vec![TransactWriteItem::builder().update(update).build(), self.counter_version(read, read.version + 1)?];
        actions.extend(membership_change);
        match self.client.transact_write_items().set_transact_items(Some(actions)).send().await {
            Ok(_) => Ok(true),
            Err(e) if first_condition_failed(&e).is_some() => Ok(false),
            Err(e) if e.as_service_error().is_some_and(TransactWriteItemsError::is_transaction_in_progress_exception) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn accept_chat(&self, user_id: &str, chat_id: &str) -> Result<bool, StoreError> {
        let chat = Update::builder()
            .table_name(&self.tables.chats)
            .key("chatId", s(chat_id))
            .update_expression("DELETE requested :user")
            .condition_expression("contains(requested, :id)")
            .expression_attribute_values(":user", string_set(&[user_id.to_owned()]))
            .expression_attribute_values(":id", s(user_id))
            .build()?;
        let membership = Update::builder()
            .table_name(&self.tables.memberships)
            .key("userId", s(user_id))
            .key("chatId", s(chat_id))
            // (`request` is one of DynamoDB's reserved words.)
            .update_expression("REMOVE #request")
            .condition_expression("attribute_exists(chatId)")
            .expression_attribute_names("#request", "request")
            .build()?;
        let actions = vec![TransactWriteItem::builder().update(chat).build(), TransactWriteItem::builder().update(membership).build()];
        match self.client.transact_write_items().set_transact_items(Some(actions)).send().await {
            Ok(_) => Ok(true),
            Err(e) if first_condition_failed(&e) == Some(true) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn set_blocked_by(&self, chat_id: &str, user_id: &str, blocked: bool) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.chats)
            .key("chatId", s(chat_id))
            .update_expression(if blocked { "ADD blockedBy :user" } else { "DELETE blockedBy :user" })
            .condition_expression("attribute_exists(chatId)")
            .expression_attribute_values(":user", string_set(&[user_id.to_owned()]))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn set_chat_info(&self, chat_id: &str, name: Option<&str>, description: Option<&str>) -> Result<(), StoreError> {
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut update = self.client.update_item().table_name(&self.tables.chats).key("chatId", s(chat_id));
        if let Some(name) = name {
            set.push("#name = :name");
            update = update.expression_attribute_names("#name", "name").expression_attribute_values(":name", s(name));
        }
        match description {
            Some("") => remove.push("description"),
            Some(description) => {
                set.push("description = :description");
                update = update.expression_attribute_values(":description", s(description));
            }
            None => {}
        }
        let mut expression = String::new();
        if !set.is_empty() {
            expression.push_str(&format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        update.update_expression(expression.trim()).condition_expression("attribute_exists(chatId)").send().await?;
        Ok(())
    }

    async fn chats_by_id(&self, chat_ids: &[String]) -> Result<Vec<Chat>, StoreError> {
        let mut keys: Vec<super::Item> = chat_ids.iter().map(|id| super::Item::from([("chatId".to_owned(), s(id))])).collect();
        keys.extend(chat_ids.iter().map(|id| super::Item::from([("chatId".to_owned(), s(counter_key(id)))])));
        let items = self.batch_get(&self.tables.chats, keys, None).await?;
        let mut chats = Vec::new();
        let mut counters = std::collections::HashMap::new();
        for item in items {
            match item.get("chatId").and_then(|id| id.as_s().ok()).and_then(|id| id.strip_suffix(COUNTER_SUFFIX)) {
                Some(chat_id) => {
                    counters.insert(chat_id.to_owned(), serde_dynamo::from_item::<_, CounterItem>(item)?);
                }
                None => chats.push(serde_dynamo::from_item::<_, Chat>(item)?),
            }
        }
        Ok(chats
            .into_iter()
            .map(|chat| match counters.get(&chat.chat_id) {
                Some(counter) => chat.counted(counter),
                None => chat,
            })
            .collect())
    }

    async fn get_chat(&self, chat_id: &str) -> Result<Option<Chat>, StoreError> {
        // Two GetItems at once: the same units as one BatchGetItem, and no
        // other permission than the chat item's read.
        let counter =
            self.client.get_item().table_name(&self.tables.chats).key("chatId", s(counter_key(chat_id))).consistent_read(true).send();
        let (chat, counter) = futures::future::try_join(self.get_chat_item(chat_id), async { Ok(counter.await?) }).await?;
        let counter: Option<CounterItem> = counter.item.map(serde_dynamo::from_item).transpose()?;
        Ok(match (chat, counter) {
            (Some(chat), Some(counter)) => Some(chat.counted(&counter)),
            (chat, _) => chat,
        })
    }

    async fn get_chat_item(&self, chat_id: &str) -> Result<Option<Chat>, StoreError> {
        let out = self.client.get_item().table_name(&self.tables.chats).key("chatId", s(chat_id)).consistent_read(true).send().await?;
        Ok(out.item.map(serde_dynamo::from_item).transpose()?)
    }

    async fn take_seq(&self, read: &Chat, taking: Taking, now_ms: u64) -> Result<Option<Taken>, StoreError> {
        let expression = match taking {
            Taking::Message => {
                "SET seq = if_not_exists(seq, :base) + :one, lastMessageSeq = if_not_exists(seq, :base) + :one, \
                 version = if_not_exists(version, :version), events = if_not_exists(events, :events), \
                 lastActiveAt = :now, takenAt = :now"
            }
            Taking::Change => {
                "SET seq = if_not_exists(seq, :base) + :one, lastMessageSeq = if_not_exists(lastMessageSeq, :lastMessage), \
                 version = if_not_exists(version, :version), events = if_not_exists(events, :events) + :one, \
                 lastActiveAt = if_not_exists(lastActiveAt, :activeAt), takenAt = :now"
            }
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.chats)
            .key("chatId", s(counter_key(&read.chat_id)))
            .update_expression(expression)
            .condition_expression("attribute_not_exists(chatId) OR version = :version")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":base", n(read.seq))
            .expression_attribute_values(":version", n(read.version))
            .expression_attribute_values(":events", n(read.events))
            .expression_attribute_values(":now", n(now_ms))
            .return_values(ReturnValue::AllNew);
        if taking == Taking::Change {
            update = update
                .expression_attribute_values(":lastMessage", n(read.last_message_seq()))
                .expression_attribute_values(":activeAt", n(read.last_active_at));
        }
        match update.send().await {
            Ok(out) => {
                let counter: CounterItem = serde_dynamo::from_item(out.attributes.unwrap_or_default())?;
                Ok(Some(Taken { seq: counter.seq, events: counter.events, last_message_seq: counter.last_message_seq }))
            }
            Err(e) if super::condition_failed(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl DynamoStore {
    /// Records (or, `counted: false`, withdraws) `seq` as a message that was
    /// never written, so unread counts skip it.
    pub(crate) async fn count_hole(&self, chat_id: &str, seq: u64, counted: bool) -> Result<(), StoreError> {
        let set = AttributeValue::Ns(vec![seq.to_string()]);
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.chats)
            .key("chatId", s(counter_key(chat_id)))
            .update_expression(if counted { "ADD holes :seq" } else { "DELETE holes :seq" })
            .condition_expression("attribute_exists(chatId)")
            .expression_attribute_values(":seq", set)
            .send()
            .await;
        applied(result).map(|_| ())
    }

    /// The transaction action a membership change takes on the counter: the
    /// new `version`, conditioned on no seq having been taken since `read`
    /// (nor another change made). A chat without a counter gets one.
    fn counter_version(&self, read: &Chat, version: u64) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.tables.chats)
            .key("chatId", s(counter_key(&read.chat_id)))
            .update_expression(
                "SET version = :next, seq = if_not_exists(seq, :seq), events = if_not_exists(events, :events), \
                 lastMessageSeq = if_not_exists(lastMessageSeq, :lastMessage), lastActiveAt = if_not_exists(lastActiveAt, :activeAt), \
                 takenAt = if_not_exists(takenAt, :activeAt)",
            )
            .condition_expression(if read.taken_at.is_some() {
                "seq = :seq AND version = :version"
            } else {
                "attribute_not_exists(chatId) OR (seq = :seq AND version = :version)"
            })
            .expression_attribute_values(":next", n(version))
            .expression_attribute_values(":version", n(read.version))
            .expression_attribute_values(":seq", n(read.seq))
            .expression_attribute_values(":events", n(read.events))
            .expression_attribute_values(":lastMessage", n(read.last_message_seq()))
            .expression_attribute_values(":activeAt", n(read.last_active_at))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
