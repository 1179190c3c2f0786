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
    /// Hours since the epoch at connect: partition of the `byHour` index the
    /// retention job reads to find connections past API Gateway's 2 hours.
    pub connected_hour: u64,
}

impl ConnectionRecord {
    pub fn new(connection_id: &str, user_id: &str, device_id: &str, connected_at_ms: u64) -> Self {
        Self {
            connection_id: connection_id.into(),
            user_id: user_id.into(),
            device_id: device_id.into(),
            connected_at: connected_at_ms,
            expires_at: connected_at_ms / 1000 + CONNECTION_RECORD_TTL.as_secs(),
            connected_hour: connected_at_ms / 3_600_000,
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

    /// Connection records made during `hour` (hours since the epoch).
    pub async fn connections_of_hour(&self, hour: u64) -> Result<Vec<ConnectionRecord>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.tables.connections)
                .index_name("byHour")
                .key_condition_expression("connectedHour = :h")
                .expression_attribute_values(":h", super::n(hour))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in page.items.unwrap_or_default() {
                out.push(serde_dynamo::from_item(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
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
