//! Inbox table: one partition per device (`user#device`), one item per
//! undelivered message (sort: message id), deleted by the device's ack and
//! expiring after the retention period (TTL attribute `expiresAt`).

use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use serde::{Deserialize, Serialize};

use super::{Item, Store, n, s};
use crate::error::StoreError;
use crate::protocol::MessageView;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboxEntry {
    pub device_key: String,
    #[serde(flatten)]
    pub message: MessageView,
    /// TTL attribute, seconds since the epoch. TTL deletes lazily, so reads filter on it too.
    pub expires_at: u64,
}

pub struct InboxPage {
    pub entries: Vec<InboxEntry>,
    /// Where the next page starts, when there is one.
    pub cursor: Option<String>,
}

fn entry_key(device_key: &str, message_id: &str) -> Item {
    Item::from([("deviceKey".to_owned(), s(device_key)), ("messageId".to_owned(), s(message_id))])
}

impl Store {
    pub async fn put_inbox_entries(&self, entries: &[InboxEntry]) -> Result<(), StoreError> {
        let requests = entries
            .iter()
            .map(|entry| {
                let put = PutRequest::builder().set_item(Some(serde_dynamo::to_item(entry)?)).build();
                let put = put.map_err(|e| StoreError::Dynamo(e.to_string()))?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.inbox, requests).await
    }

    /// Deletes acknowledged entries; acking an entry that is gone is not an error.
    pub async fn delete_inbox_entries(&self, device_key: &str, message_ids: &[String]) -> Result<(), StoreError> {
        if let [message_id] = message_ids {
            self.client
                .delete_item()
                .table_name(&self.tables.inbox)
                .set_key(Some(entry_key(device_key, message_id)))
                .send()
                .await?;
            return Ok(());
        }
        let requests = message_ids
            .iter()
            .map(|id| {
                let delete = DeleteRequest::builder().set_key(Some(entry_key(device_key, id))).build();
                let delete = delete.map_err(|e| StoreError::Dynamo(e.to_string()))?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.inbox, requests).await
    }

    /// One page of a device's unexpired inbox, oldest message id first.
    pub async fn inbox_page(&self, device_key: &str, cursor: Option<&str>, limit: usize, now_secs: u64) -> Result<InboxPage, StoreError> {
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
        let cursor = out.last_evaluated_key.and_then(|key| key.get("messageId")?.as_s().ok().cloned());
        Ok(InboxPage { entries, cursor })
    }
}
