//! Contacts table: whom each user has accepted — by creating a chat with
//! them, accepting their message request or invitation, or replying to it.
//! A chat from anyone else is a request until accepted (docs/security.md).
//! And whom they blocked, under `block#<userId>` in the same partition, so
//! the block list is one Query of that prefix and a block check one key.
//! Partition: the user; one item per person they accepted or blocked.

use super::{DynamoStore, Item, s};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use domain::error::StoreError;
use domain::model::contacts::{BLOCK, Contact};
use domain::ports::ContactTable;
use std::collections::BTreeSet;

#[async_trait]
impl ContactTable for DynamoStore {
    async fn add_contacts(&self, user_id: &str, contacts: &[String], now_ms: u64) -> Result<(), StoreError> {
        let requests = contacts
            .iter()
            .filter(|c| *c != user_id)
            .map(|contact| {
                let item = Contact { user_id: user_id.to_owned(), contact_id: contact.clone(), since: now_ms };
                let put = PutRequest::builder().set_item(Some(serde_dynamo::to_item(item)?)).build();
                Ok(WriteRequest::builder().put_request(put?).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.contacts, requests).await
    }

    async fn who_accepted(&self, users: &[String], contact: &str) -> Result<BTreeSet<String>, StoreError> {
        let keys: Vec<Item> =
            users.iter().map(|u| Item::from([("userId".to_owned(), s(u)), ("contactId".to_owned(), s(contact))])).collect();
        let found = self.batch_get(&self.tables.contacts, keys, None).await?;
        Ok(found.into_iter().filter_map(|item| item.get("userId")?.as_s().ok().cloned()).collect())
    }

    async fn block(&self, user_id: &str, other: &str, now_ms: u64) -> Result<(), StoreError> {
        let block = Contact { user_id: user_id.to_owned(), contact_id: format!("{BLOCK}{other}"), since: now_ms };
        let put = PutRequest::builder().set_item(Some(serde_dynamo::to_item(block)?)).build()?;
        let accepted = Item::from([("userId".to_owned(), s(user_id)), ("contactId".to_owned(), s(other))]);
        let delete = DeleteRequest::builder().set_key(Some(accepted)).build()?;
        let requests = vec![WriteRequest::builder().put_request(put).build(), WriteRequest::builder().delete_request(delete).build()];
        self.batch_write(&self.tables.contacts, requests).await
    }

    async fn unblock(&self, user_id: &str, other: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.tables.contacts)
            .key("userId", s(user_id))
            .key("contactId", s(format!("{BLOCK}{other}")))
            .send()
            .await?;
        Ok(())
    }

    async fn blocked_by(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let mut blocked = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.tables.contacts)
                .key_condition_expression("userId = :user AND begins_with(contactId, :block)")
                .expression_attribute_values(":user", s(user_id))
                .expression_attribute_values(":block", s(BLOCK))
                .projection_expression("contactId")
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in out.items() {
                if let Some(id) = item.get("contactId").and_then(|v| v.as_s().ok()).and_then(|k| k.strip_prefix(BLOCK)) {
                    blocked.push(id.to_owned());
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(blocked);
            }
        }
    }

    async fn blocks_among(&self, pairs: &[(String, String)]) -> Result<BTreeSet<(String, String)>, StoreError> {
        if pairs.is_empty() {
            return Ok(BTreeSet::new());
        }
        let keys: Vec<Item> = pairs
            .iter()
            .map(|(blocker, blocked)| {
                Item::from([("userId".to_owned(), s(blocker)), ("contactId".to_owned(), s(format!("{BLOCK}{blocked}")))])
            })
            .collect();
        let found = self.batch_get(&self.tables.contacts, keys, None).await?;
        Ok(found
            .into_iter()
            .filter_map(|item| {
                let blocker = item.get("userId")?.as_s().ok()?.clone();
                let blocked = item.get("contactId")?.as_s().ok()?.strip_prefix(BLOCK)?.to_owned();
                Some((blocker, blocked))
            })
            .collect())
    }

    async fn contacts_among(&self, user_id: &str, candidates: &[String]) -> Result<BTreeSet<String>, StoreError> {
        if candidates.is_empty() {
            return Ok(BTreeSet::new());
        }
        let keys: Vec<Item> =
            candidates.iter().map(|c| Item::from([("userId".to_owned(), s(user_id)), ("contactId".to_owned(), s(c))])).collect();
        let found = self.batch_get(&self.tables.contacts, keys, None).await?;
        Ok(found.into_iter().filter_map(|item| item.get("contactId")?.as_s().ok().cloned()).collect())
    }
}
