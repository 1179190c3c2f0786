//! One-time keys table (`domain::model::one_time_keys`): uploaded in
//! batches, counted and claimed on the device's partition, each claim a
//! conditional delete so a key goes to one claimer only.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, ReturnValue, Select, WriteRequest};
use domain::error::StoreError;
use domain::model::OneTimeKey;
use domain::model::one_time_keys::{MAX_ONE_TIME_KEYS, OneTimeKeyItem};
use domain::ports::OneTimeKeyTable;

use super::{DynamoStore, Item, condition_failed, s};

/// Keys looked at per claim attempt: racing claimers that find the same
/// first key spread over these, so most win at the first try.
const CLAIM_CANDIDATES: i32 = 8;
/// Claim attempts: each one that fails found every candidate taken by a
/// racing claim, so the partition shrank by at least one key; after as many
/// attempts as a device holds keys it is empty. So a claim never falls back
/// while a one-time key remains (the fallback is for when they ran out).
const CLAIM_ATTEMPTS: usize = MAX_ONE_TIME_KEYS + 1;

fn key(device_key: &str, key_id: &str) -> Item {
    Item::from([("deviceKey".to_owned(), s(device_key)), ("keyId".to_owned(), s(key_id))])
}

#[async_trait]
impl OneTimeKeyTable for DynamoStore {
    async fn put_one_time_keys(&self, device_key: &str, keys: &[OneTimeKey]) -> Result<(), StoreError> {
        let requests = keys
            .iter()
            .map(|k| {
                let put = PutRequest::builder().set_item(Some(serde_dynamo::to_item(OneTimeKeyItem::new(device_key, k))?)).build()?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.one_time_keys, requests).await
    }

    async fn count_one_time_keys(&self, device_key: &str) -> Result<usize, StoreError> {
        let mut count = 0;
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.tables.one_time_keys)
                .key_condition_expression("deviceKey = :d")
                .expression_attribute_values(":d", s(device_key))
                .select(Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            count += page.count as usize;
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }

    async fn claim_one_time_key(&self, device_key: &str) -> Result<Option<OneTimeKey>, StoreError> {
        for _ in 0..CLAIM_ATTEMPTS {
            let page = self
                .client
                .query()
                .table_name(&self.tables.one_time_keys)
                .key_condition_expression("deviceKey = :d")
                .expression_attribute_values(":d", s(device_key))
                .projection_expression("keyId")
                .limit(CLAIM_CANDIDATES)
                .consistent_read(true)
                .send()
                .await?;
            let mut candidates: Vec<String> =
                page.items.unwrap_or_default().into_iter().filter_map(|item| item.get("keyId")?.as_s().ok().cloned()).collect();
            if candidates.is_empty() {
                return Ok(None);
            }
            // Racing claimers read the same candidates: each starts at a different one.
            let start = rand::random_range(0..candidates.len());
            candidates.rotate_left(start);
            for key_id in candidates {
                let result = self
                    .client
                    .delete_item()
                    .table_name(&self.tables.one_time_keys)
                    .set_key(Some(key(device_key, &key_id)))
                    .condition_expression("attribute_exists(keyId)")
                    .return_values(ReturnValue::AllOld)
                    .send()
                    .await;
                match result {
                    Ok(out) => {
                        let item: OneTimeKeyItem = serde_dynamo::from_item(out.attributes.unwrap_or_default())?;
                        return Ok(Some(item.into()));
                    }
                    // Another claim took it first.
                    Err(e) if condition_failed(&e) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(None)
    }

    async fn delete_one_time_keys(&self, device_key: &str) -> Result<usize, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.one_time_keys)
            .key_condition_expression("deviceKey = :d")
            .expression_attribute_values(":d", s(device_key))
            .projection_expression("deviceKey, keyId");
        let items = self.query_all(query).await?;
        let count = items.len();
        let requests = items
            .into_iter()
            .map(|k| Ok(WriteRequest::builder().delete_request(DeleteRequest::builder().set_key(Some(k)).build()?).build()))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.one_time_keys, requests).await?;
        Ok(count)
    }
}
