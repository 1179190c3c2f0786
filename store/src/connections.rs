//! Connections table: connection id → user and device, with a TTL beyond API
//! Gateway's 2-hour connection limit so records of lost `$disconnect`s expire.

use super::{DynamoStore, applied, s};
use async_trait::async_trait;
use domain::error::StoreError;
use domain::model::connections::{Connected, ConnectionRecord, heartbeat_bucket};
use domain::ports::ConnectionTable;
use std::time::Duration;

#[async_trait]
impl ConnectionTable for DynamoStore {
    async fn put_connection(&self, record: &ConnectionRecord) -> Result<(), StoreError> {
        self.client.put_item().table_name(&self.tables.connections).set_item(Some(serde_dynamo::to_item(record)?)).send().await?;
        Ok(())
    }

    async fn heartbeat(&self, connection_id: &str, now_ms: u64, width: Duration) -> Result<bool, StoreError> {
        let bucket = heartbeat_bucket(connection_id, now_ms, width);
        let current = self
            .client
            .get_item()
            .table_name(&self.tables.connections)
            .key("connectionId", s(connection_id))
            .projection_expression("heartbeatBucket")
            .send()
            .await?;
        match current.item.as_ref().map(|item| item.get("heartbeatBucket").and_then(|b| b.as_s().ok())) {
            None => return Ok(false),
            Some(Some(stored)) if *stored == bucket => return Ok(true),
            Some(_) => {}
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.connections)
            .key("connectionId", s(connection_id))
            .update_expression("SET lastHeartbeatAt = :now, heartbeatBucket = :bucket")
            .condition_expression("attribute_exists(connectionId)")
            .expression_attribute_values(":now", super::n(now_ms))
            .expression_attribute_values(":bucket", s(bucket))
            .send()
            .await;
        applied(result)
    }

    async fn connections_of_heartbeat_bucket(&self, bucket: &str) -> Result<Vec<ConnectionRecord>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.connections)
            .index_name("byHeartbeat")
            .key_condition_expression("heartbeatBucket = :b")
            .expression_attribute_values(":b", s(bucket));
        Ok(self.query_all(query).await?.into_iter().map(serde_dynamo::from_item).collect::<Result<_, _>>()?)
    }

    async fn connections_of_connect_bucket(&self, bucket: &str) -> Result<Vec<Connected>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.connections)
            .index_name("byConnectBucket")
            .key_condition_expression("connectBucket = :b")
            .expression_attribute_values(":b", s(bucket));
        Ok(self.query_all(query).await?.into_iter().map(serde_dynamo::from_item).collect::<Result<_, _>>()?)
    }

    async fn delete_connection(&self, connection_id: &str) -> Result<(), StoreError> {
        self.client.delete_item().table_name(&self.tables.connections).key("connectionId", s(connection_id)).send().await?;
        Ok(())
    }
}
