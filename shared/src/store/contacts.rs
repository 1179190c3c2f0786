//! Contacts table: whom each user has accepted — by creating a chat with
//! them, accepting their message request or invitation, or replying to it.
//! A chat from anyone else is a request until accepted (docs/security.md).
//! Partition: the user; one item per person they accepted.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use serde::{Deserialize, Serialize};

use super::{Item, Store, s};
use crate::error::StoreError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub user_id: String,
    pub contact_id: String,
    pub since: u64,
}

impl Store {
    /// `user_id` accepts each of `contacts` (one BatchWriteItem per 25).
    pub async fn add_contacts(&self, user_id: &str, contacts: &[String], now_ms: u64) -> Result<(), StoreError> {
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

    /// Which of `users` have accepted `contact` (one BatchGetItem per 100).
    pub async fn who_accepted(&self, users: &[String], contact: &str) -> Result<BTreeSet<String>, StoreError> {
        let keys: Vec<Item> =
            users.iter().map(|u| Item::from([("userId".to_owned(), s(u)), ("contactId".to_owned(), s(contact))])).collect();
        let found = self.batch_get(&self.tables.contacts, keys, None).await?;
        Ok(found.into_iter().filter_map(|item| item.get("userId")?.as_s().ok().cloned()).collect())
    }
}
