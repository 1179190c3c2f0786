//! Chats table: one item per chat holding its members (a string set, at most
//! 100), the last assigned `seq` and a membership `version`. Membership lives on
//! the chat item so that checking it and assigning `seq` is one conditional write.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use serde::{Deserialize, Serialize};

use super::{Store, s};
use crate::error::StoreError;
use crate::protocol::ChatKind;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chat {
    pub chat_id: String,
    pub kind: ChatKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(with = "serde_dynamo::string_set")]
    pub members: Vec<String>,
    pub created_by: String,
    pub created_at: u64,
    /// Sequence number of the chat's last message (0: none yet).
    pub seq: u64,
    /// Bumped by every membership change; a send conditions on it.
    pub version: u64,
    pub last_active_at: u64,
}

impl Chat {
    pub fn is_member(&self, user_id: &str) -> bool {
        self.members.iter().any(|m| m == user_id)
    }
}

impl Store {
    /// Creates the chat unless one with this id exists; returns whether it did.
    pub async fn create_chat(&self, chat: &Chat) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.chats)
            .set_item(Some(serde_dynamo::to_item(chat)?))
            .condition_expression("attribute_not_exists(chatId)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(PutItemError::is_conditional_check_failed_exception) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Strongly consistent: a send must see every membership change acknowledged before it.
    pub async fn get_chat(&self, chat_id: &str) -> Result<Option<Chat>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.chats)
            .key("chatId", s(chat_id))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item.map(serde_dynamo::from_item).transpose()?)
    }
}
