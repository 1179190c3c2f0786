//! Connections table: connection id → user and device, with a TTL beyond API
//! Gateway's 2-hour connection limit so records of lost `$disconnect`s expire.

use serde::{Deserialize, Serialize};

use super::{Store, s};
use crate::config::CONNECTION_RECORD_TTL;
use crate::error::StoreError;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRecord {
    pub connection_id: String,
    pub user_id: String,
    pub device_id: String,
    pub connected_at: u64,
    /// TTL attribute, seconds since the epoch.
    pub expires_at: u64,
}

impl ConnectionRecord {
    pub fn new(connection_id: &str, user_id: &str, device_id: &str, connected_at_ms: u64) -> Self {
        Self {
            connection_id: connection_id.into(),
            user_id: user_id.into(),
            device_id: device_id.into(),
            connected_at: connected_at_ms,
            expires_at: connected_at_ms / 1000 + CONNECTION_RECORD_TTL.as_secs(),
        }
    }
}

impl Store {
    pub async fn put_connection(&self, record: &ConnectionRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.tables.connections)
            .set_item(Some(serde_dynamo::to_item(record)?))
            .send()
            .await?;
        Ok(())
    }

    pub async fn delete_connection(&self, connection_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.tables.connections)
            .key("connectionId", s(connection_id))
            .send()
            .await?;
        Ok(())
    }
}
