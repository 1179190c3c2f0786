//! The store port on DynamoDB: one module per table, each implementing its
//! table's trait of `domain::ports`. Every access is by key or by Query on
//! one partition: nothing here scans. The items are the domain's entities
//! in their stored formats (`domain::model`), pinned by `item_formats`.

mod attachments;
mod chats;
mod connections;
mod contacts;
mod inbox;
#[cfg(test)]
mod item_formats;
mod memberships;
mod messages;
mod one_time_keys;
mod presence;
mod rate_limits;
mod users;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem, WriteRequest};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use domain::config::Tables;
use domain::error::StoreError;
use domain::model::backoff;

pub type Item = HashMap<String, AttributeValue>;

pub const MAX_BATCH_WRITE: usize = 25;

pub const MAX_BATCH_GET: usize = 100;

const MAX_UNPROCESSED_ROUNDS: usize = 8;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    /// One single-item UpdateItem built as a transaction action (the
    /// builders are shared with the transactions); false when its
    /// condition did not hold.
    async fn update_one(&self, action: TransactWriteItem) -> Result<bool, StoreError> {
        let Some(update) = action.update else {
            return Err(StoreError::Build("update_one takes an update action".into()));
        };
        let result = self
            .client
            .update_item()
            .table_name(update.table_name)
            .set_key(Some(update.key))
            .update_expression(update.update_expression)
            .set_condition_expression(update.condition_expression)
            .set_expression_attribute_names(update.expression_attribute_names)
            .set_expression_attribute_values(update.expression_attribute_values)
            .send()
            .await;
        applied(result)
    }

    /// BatchWriteItem in chunks of 25, re-sending what DynamoDB left unprocessed.
    async fn batch_write(&self, table: &str, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(MAX_BATCH_WRITE) {
            let mut pending = HashMap::from([(table.to_owned(), chunk.to_vec())]);
            let mut round = 0;
            while !pending.is_empty() {
                if round == MAX_UNPROCESSED_ROUNDS {
                    return Err(StoreError::Unprocessed(round));
                }
                if round > 0 {
                    backoff(round).await;
                }
                let out = self.client.batch_write_item().set_request_items(Some(pending)).send().await?;
                pending = out.unprocessed_items.unwrap_or_default();
                pending.retain(|_, v| !v.is_empty());
                round += 1;
            }
        }
        Ok(())
    }

    /// BatchGetItem in chunks of 100 keys (strongly consistent), re-asking for
    /// unprocessed keys.
    async fn batch_get(&self, table: &str, keys: Vec<Item>, projection: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .set_projection_expression(projection.map(str::to_owned))
                .build()?;
            let mut pending = HashMap::from([(table.to_owned(), request)]);
            let mut round = 0;
            while !pending.is_empty() {
                if round == MAX_UNPROCESSED_ROUNDS {
                    return Err(StoreError::Unprocessed(round));
                }
                if round > 0 {
                    backoff(round).await;
                }
                let out = self.client.batch_get_item().set_request_items(Some(pending)).send().await?;
                items.extend(out.responses.unwrap_or_default().into_values().flatten());
                pending = out.unprocessed_keys.unwrap_or_default();
                round += 1;
            }
        }
        Ok(items)
    }
}

/// The outcome of a conditional write: `true` when it was applied, `false`
/// when its condition did not hold (an expected answer, not an error).
pub fn applied<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if condition_failed(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl DynamoStore {
    /// Writes `item` unless an item with its key exists (`key` names the
    /// table's partition key); false when one did.
    async fn put_new(&self, table: &str, item: Item, key: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(format!("attribute_not_exists({key})"))
            .send()
            .await;
        applied(result)
    }
}

/// Whether a single-item write was refused by its condition.
pub fn condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

impl DynamoStore {
    /// Every item a Query matches, following `LastEvaluatedKey` page by page.
    async fn query_all(&self, query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = query.clone().set_exclusive_start_key(start).send().await?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
