//! Contacts table: whom each user has accepted — by creating a chat with
//! them, accepting their message request or invitation, or replying to it.
//! A chat from anyone else is a request until accepted (docs/security.md).
//! And whom they blocked, under `block#<userId>` in the same partition, so
//! the block list is one Query of that prefix and a block check one key.
//! Partition: the user; one item per person they accepted or blocked.

use serde::{Deserialize, Serialize};

/// The sort key prefix of a block (`block#<blocked user>`).
pub const BLOCK: &str = "block#";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub user_id: String,
    pub contact_id: String,
    pub since: u64,
}
