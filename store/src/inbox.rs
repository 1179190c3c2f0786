//! Inbox table: one partition per device (`user#device`), one item per frame
//! the device has not acknowledged yet (sort: entry id, a ULID, so oldest
//! first). Messages are the common case; membership changes, read syncs and
//! receipts travel the same way, so an offline device gets them on `sync`.
//! Entries expire after the retention period (TTL attribute `expiresAt`).

use super::{DynamoStore, Item, n, s};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, ReturnValue, WriteRequest};
use domain::error::StoreError;
use domain::model::inbox::{InboxEntry, InboxPage};
use domain::ports::InboxTable;

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
