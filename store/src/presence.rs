//! PresenceSubscriptions table: who is watching whose presence right now.
//! Partition: the watched user; one item per watching device (sort key
//! `watcherKey`, `user#device`), naming the connection it watches from and
//! expiring (TTL, and filtered on read) a few minutes after the client last
//! asked. A device subscribing again, from a new connection or the same,
//! overwrites its item: reconnecting never piles up watches, and a watch whose
//! connection is gone ends at the first post to it (410).

use super::{DynamoStore, n, s};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use domain::error::StoreError;
use domain::model::presence::PresenceSubscription;
use domain::ports::PresenceTable;

#[async_trait]
impl PresenceTable for DynamoStore {
    async fn put_presence_subscriptions(&self, subscriptions: &[PresenceSubscription]) -> Result<(), StoreError> {
        let requests = subscriptions
            .iter()
            .map(|sub| {
                let put = PutRequest::builder().set_item(Some(serde_dynamo::to_item(sub)?)).build();
                Ok(WriteRequest::builder().put_request(put?).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.presence_subscriptions, requests).await
    }

    async fn presence_subscribers(&self, user_id: &str, now_secs: u64, limit: usize) -> Result<Vec<PresenceSubscription>, StoreError> {
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

    async fn drop_presence_subscriptions(&self, user_id: &str, watcher_keys: &[String]) -> Result<(), StoreError> {
        let requests = watcher_keys
            .iter()
            .map(|watcher_key| {
                let key = super::Item::from([("userId".to_owned(), s(user_id)), ("watcherKey".to_owned(), s(watcher_key))]);
                Ok(WriteRequest::builder().delete_request(DeleteRequest::builder().set_key(Some(key)).build()?).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.presence_subscriptions, requests).await
    }

    async fn end_presence_watch(&self, watch: &PresenceSubscription) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.tables.presence_subscriptions)
            .key("userId", s(&watch.user_id))
            .key("watcherKey", s(&watch.watcher_key))
            .condition_expression("connectionId = :c")
            .expression_attribute_values(":c", s(&watch.connection_id))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
