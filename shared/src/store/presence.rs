//! PresenceSubscriptions table: who is watching whose presence right now.
//! Partition: the watched user; one item per watching connection, expiring
//! (TTL, and filtered on read) a few minutes after the client last asked.

use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use serde::{Deserialize, Serialize};

use super::{Store, n, s};
use crate::error::StoreError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceSubscription {
    /// The watched user.
    pub user_id: String,
    /// The watching connection (posts go straight to it).
    pub connection_id: String,
    pub subscriber_id: String,
    /// TTL attribute, seconds since the epoch.
    pub expires_at: u64,
}

impl Store {
    pub async fn put_presence_subscriptions(&self, subscriptions: &[PresenceSubscription]) -> Result<(), StoreError> {
        let requests = subscriptions
            .iter()
            .map(|sub| {
                let put = PutRequest::builder().set_item(Some(serde_dynamo::to_item(sub)?)).build();
                Ok(WriteRequest::builder().put_request(put?).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.presence_subscriptions, requests).await
    }

    /// Up to `limit` unexpired subscriptions to `user_id`'s presence.
    pub async fn presence_subscribers(&self, user_id: &str, now_secs: u64, limit: usize) -> Result<Vec<PresenceSubscription>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.presence_subscriptions)
            .key_condition_expression("userId = :u")
            .filter_expression("expiresAt > :now")
            .expression_attribute_values(":u", s(user_id))
            .expression_attribute_values(":now", n(now_secs));
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let page = query.clone().set_exclusive_start_key(start).send().await?;
            for item in page.items.unwrap_or_default() {
                found.push(serde_dynamo::from_item(item)?);
                if found.len() == limit {
                    return Ok(found);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    /// Ends these watching connections' subscriptions to `user_id`.
    pub async fn drop_presence_subscriptions(&self, user_id: &str, connection_ids: &[String]) -> Result<(), StoreError> {
        let requests = connection_ids
            .iter()
            .map(|connection_id| {
                let key = super::Item::from([("userId".to_owned(), s(user_id)), ("connectionId".to_owned(), s(connection_id))]);
                Ok(WriteRequest::builder().delete_request(DeleteRequest::builder().set_key(Some(key)).build()?).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.presence_subscriptions, requests).await
    }
}
