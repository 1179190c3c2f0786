//! Inbox table: one partition per device (`user#device`), one item per frame
//! the device has not acknowledged yet (sort: entry id, a ULID, so oldest
//! first). Messages are the common case; membership changes, read syncs and
//! receipts travel the same way, so an offline device gets them on `sync`.
//! Entries expire after the retention period (TTL attribute `expiresAt`).

use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, ReturnValue, WriteRequest};
use serde::{Deserialize, Serialize};

use async_trait::async_trait;

use super::{DynamoStore, Item, n, s};
use crate::error::StoreError;
use crate::ports::InboxTable;

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

/// The (device, entry) keys of inbox items.
fn entry_keys(items: &[Item]) -> Vec<(String, String)> {
    items
        .iter()
        .filter_map(|item| {
            let field = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            Some((field("deviceKey")?, field("entryId")?))
        })
        .collect()
}

fn entry_key(device_key: &str, entry_id: &str) -> Item {
    Item::from([("deviceKey".to_owned(), s(device_key)), ("entryId".to_owned(), s(entry_id))])
}

#[async_trait]
impl InboxTable for DynamoStore {
    async fn put_inbox_entries(&self, entries: &[InboxEntry]) -> Result<(), StoreError> {
        let requests = entries
            .iter()
            .map(|entry| {
                let put = PutRequest::builder().set_item(Some(serde_dynamo::to_item(entry)?)).build();
                let put = put?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.inbox, requests).await
    }

    async fn delete_inbox_entries(&self, device_key: &str, entry_ids: &[String]) -> Result<(), StoreError> {
        if let [entry_id] = entry_ids {
            self.client
                .delete_item()
                .table_name(&self.tables.inbox)
                .set_key(Some(entry_key(device_key, entry_id)))
                .return_values(ReturnValue::None)
                .send()
                .await?;
            return Ok(());
        }
        let requests = entry_ids
            .iter()
            .map(|id| {
                let delete = DeleteRequest::builder().set_key(Some(entry_key(device_key, id))).build();
                let delete = delete?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.inbox, requests).await
    }

    async fn discard_inbox(&self, device_key: &str) -> Result<usize, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.inbox)
            .key_condition_expression("deviceKey = :k")
            .expression_attribute_values(":k", s(device_key))
            .consistent_read(true);
        let mut entries: Vec<InboxEntry> =
            self.query_all(query).await?.into_iter().map(serde_dynamo::from_item).collect::<Result<_, _>>()?;
        for entry in &mut entries {
            entry.discarded = true;
        }
        self.put_inbox_entries(&entries).await?;
        let keys: Vec<(String, String)> = entries.iter().map(|e| (e.device_key.clone(), e.entry_id.clone())).collect();
        self.delete_inbox_keys(&keys).await?;
        Ok(entries.len())
    }

    async fn inbox_keys_present(&self, keys: &[(String, String)]) -> Result<Vec<(String, String)>, StoreError> {
        let items =
            self.batch_get(&self.tables.inbox, keys.iter().map(|(d, e)| entry_key(d, e)).collect(), Some("deviceKey, entryId")).await?;
        Ok(entry_keys(&items))
    }

    async fn delete_inbox_keys(&self, keys: &[(String, String)]) -> Result<(), StoreError> {
        let requests = keys
            .iter()
            .map(|(device, entry)| {
                let delete = DeleteRequest::builder().set_key(Some(entry_key(device, entry))).build();
                let delete = delete?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.inbox, requests).await
    }

    async fn inbox_page(&self, device_key: &str, cursor: Option<&str>, limit: usize, now_secs: u64) -> Result<InboxPage, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.tables.inbox)
            .key_condition_expression("deviceKey = :k")
            .filter_expression("expiresAt > :now")
            .expression_attribute_values(":k", s(device_key))
            .expression_attribute_values(":now", n(now_secs))
            .set_exclusive_start_key(cursor.map(|c| entry_key(device_key, c)))
            .limit(limit as i32)
            .consistent_read(true)
            .send()
            .await?;
        let entries = out.items.unwrap_or_default().into_iter().map(serde_dynamo::from_item).collect::<Result<Vec<_>, _>>()?;
        let cursor = out.last_evaluated_key.and_then(|key| key.get("entryId")?.as_s().ok().cloned());
        Ok(InboxPage { entries, cursor })
    }
}
