//! Users table: one item per user holding a small map of that user's devices
//! (at most a few), so the devices of a whole chat are one BatchGetItem.

use super::{DynamoStore, Item, applied, condition_failed, n, s};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::error::{AppError, StoreError};
use domain::model::users::{Device, OneTimeKey, Privacy, Profile, PushEndpoint, StoredIdentityKeys, UserDevices, revocation};
use domain::ports::UserTable;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileRow {
    user_id: String,
    #[serde(default)]
    profile: Profile,
}

fn user_key(user_id: &str) -> Item {
    HashMap::from([("userId".to_owned(), s(user_id))])
}

/// A device's field in an `UPDATED_OLD` answer, which holds only the changed
/// paths (`devices.<id>.<field>`).
fn updated_device_field<'a>(attributes: &'a Item, device_id: &str, field: &str) -> Option<&'a AttributeValue> {
    attributes.get("devices")?.as_m().ok()?.get(device_id)?.as_m().ok()?.get(field)
}

#[async_trait]
impl UserTable for DynamoStore {
    async fn register_device_connection(
        &self,
        user_id: &str,
        device_id: &str,
        connection_id: &str,
        now_ms: u64,
        max_devices: usize,
    ) -> Result<Option<String>, AppError> {
        let table = &self.tables.users;
        for _ in 0..4 {
            // Known device: refresh its connection.
            let known = self
                .client
                .update_item()
                .table_name(table)
                .set_key(Some(user_key(user_id)))
                .update_expression("SET devices.#d.connectionId = :c, devices.#d.connectedAt = :t")
                .condition_expression("attribute_exists(devices.#d)")
                .expression_attribute_names("#d", device_id)
                .expression_attribute_values(":c", s(connection_id))
                .expression_attribute_values(":t", n(now_ms))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedOld)
                .send()
                .await;
            match known {
                Ok(out) => {
                    let previous = out
                        .attributes
                        .as_ref()
                        .and_then(|a| updated_device_field(a, device_id, "connectionId")?.as_s().ok().cloned())
                        .filter(|previous| previous != connection_id);
                    return Ok(previous);
                }
                Err(e) if condition_failed(&e) => {}
                Err(e) => return Err(StoreError::from(e).into()),
            }
            let device = Device {
                connection_id: Some(connection_id.into()),
                connected_at: Some(now_ms),
                registered_at: now_ms,
                ..Default::default()
            };
            let device: AttributeValue = serde_dynamo::to_attribute_value(&device).map_err(StoreError::from)?;
            // New device for a user who has devices: only while under the limit.
            let added = self
                .client
                .update_item()
                .table_name(table)
                .set_key(Some(user_key(user_id)))
                .update_expression("SET devices.#d = :device")
                .condition_expression("attribute_exists(devices) AND size(devices) < :max AND attribute_not_exists(devices.#d)")
                .expression_attribute_names("#d", device_id)
                .expression_attribute_values(":device", device.clone())
                .expression_attribute_values(":max", n(max_devices))
                .send()
                .await;
            if applied(added)? {
                return Ok(None);
            }
            // First device of a user.
            let first = self
                .client
                .update_item()
                .table_name(table)
                .set_key(Some(user_key(user_id)))
                .update_expression("SET devices = :devices")
                .condition_expression("attribute_not_exists(devices)")
                .expression_attribute_values(":devices", AttributeValue::M(HashMap::from([(device_id.to_owned(), device)])))
                .send()
                .await;
            if applied(first)? {
                return Ok(None);
            }
            // All three conditions failed: either the user is at the limit, or a
            // concurrent connect changed the item between our attempts.
            let current = self.devices_of(&[user_id.to_owned()]).await?;
            let devices = current.get(user_id).map(|u| &u.devices);
            if devices.is_some_and(|d| d.len() >= max_devices && !d.contains_key(device_id)) {
                return Err(AppError::TooManyDevices { max: max_devices });
            }
        }
        Err(AppError::Contention)
    }

    async fn clear_device_connection(&self, user_id: &str, device_id: &str, connection_id: &str, now_ms: u64) -> Result<bool, StoreError> {
        self.clear_connection_made_before(user_id, device_id, connection_id, None, now_ms).await
    }

    async fn clear_stale_device_connection(
        &self,
        user_id: &str,
        device_id: &str,
        connection_id: &str,
        connected_before: u64,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        self.clear_connection_made_before(user_id, device_id, connection_id, Some(connected_before), now_ms).await
    }

    async fn set_privacy(&self, user_id: &str, privacy: Privacy) -> Result<(), StoreError> {
        self.set_user_attribute(user_id, "privacy", &privacy).await
    }

    async fn set_profile(&self, user_id: &str, profile: &Profile) -> Result<(), StoreError> {
        self.set_user_attribute(user_id, "profile", profile).await
    }

    async fn registered_users(&self, user_ids: &[String]) -> Result<BTreeSet<String>, StoreError> {
        if user_ids.is_empty() {
            return Ok(BTreeSet::new());
        }
        // The user item is written by a device's first connection and stays.
        let keys = user_ids.iter().map(|u| user_key(u.as_ref())).collect();
        let items = self.batch_get(&self.tables.users, keys, Some("userId")).await?;
        Ok(items.into_iter().filter_map(|item| item.get("userId").and_then(|v| v.as_s().ok()).cloned()).collect())
    }

    async fn profiles_of(&self, user_ids: &[String]) -> Result<HashMap<String, Profile>, StoreError> {
        if user_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let keys = user_ids.iter().map(|u| user_key(u.as_ref())).collect();
        let items = self.batch_get(&self.tables.users, keys, Some("userId, profile")).await?;
        items
            .into_iter()
            .map(|item| {
                let row: ProfileRow = serde_dynamo::from_item(item)?;
                Ok((row.user_id, row.profile))
            })
            .collect()
    }

    async fn privacy_of(&self, user_ids: &[String]) -> Result<HashMap<String, Privacy>, StoreError> {
        Ok(self.devices_of(user_ids).await?.into_iter().map(|(id, user)| (id, user.privacy)).collect())
    }

    async fn revoke_device(&self, user_id: &str, device_id: &str, now_secs: u64) -> Result<Option<Device>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.users)
            .set_key(Some(user_key(user_id)))
            // Last seen, in case this was the user's last connected device.
            .update_expression("REMOVE devices.#d ADD revocations :r SET lastSeen = :now")
            .condition_expression("attribute_exists(devices.#d)")
            .expression_attribute_names("#d", device_id)
            .expression_attribute_values(":r", AttributeValue::Ss(vec![revocation(device_id, now_secs)]))
            .expression_attribute_values(":now", n(now_secs * 1000))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let old: UserDevices = serde_dynamo::from_item(out.attributes.unwrap_or_default())?;
                Ok(old.devices.get(device_id).cloned())
            }
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn device_registry(&self, user_id: &str) -> Result<UserDevices, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.users)
            .set_key(Some(user_key(user_id)))
            .projection_expression("userId, devices, revocations")
            .consistent_read(true)
            .send()
            .await?;
        match out.item {
            Some(item) => Ok(serde_dynamo::from_item(item)?),
            None => Ok(UserDevices { user_id: user_id.to_owned(), ..Default::default() }),
        }
    }

    async fn forget_push_endpoint(&self, user_id: &str, device_id: &str, endpoint_arn: &str) -> Result<bool, StoreError> {
        applied(
            self.client
                .update_item()
                .table_name(&self.tables.users)
                .set_key(Some(user_key(user_id)))
                .update_expression("REMOVE devices.#d.push")
                .condition_expression("devices.#d.push.endpointArn = :arn")
                .expression_attribute_names("#d", device_id)
                .expression_attribute_values(":arn", s(endpoint_arn))
                .send()
                .await,
        )
    }

    async fn set_device_push(
        &self,
        user_id: &str,
        device_id: &str,
        push: Option<&PushEndpoint>,
    ) -> Result<Option<Option<PushEndpoint>>, StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.users)
            .set_key(Some(user_key(user_id)))
            .condition_expression("attribute_exists(devices.#d)")
            .expression_attribute_names("#d", device_id)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedOld);
        update = match push {
            Some(push) => update
                .update_expression("SET devices.#d.push = :push")
                .expression_attribute_values(":push", serde_dynamo::to_attribute_value(push)?),
            None => update.update_expression("REMOVE devices.#d.push"),
        };
        match update.send().await {
            Ok(out) => {
                let previous = out
                    .attributes
                    .as_ref()
                    .and_then(|a| updated_device_field(a, device_id, "push").cloned())
                    .map(serde_dynamo::from_attribute_value)
                    .transpose()?;
                Ok(Some(previous))
            }
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn claim_push_slot(&self, user_id: &str, device_id: &str, now_ms: u64, window_ms: u64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.users)
            .set_key(Some(user_key(user_id)))
            .update_expression("SET devices.#d.lastPushAt = :now")
            .condition_expression(
                "attribute_exists(devices.#d) AND (attribute_not_exists(devices.#d.lastPushAt) OR devices.#d.lastPushAt < :cutoff)",
            )
            .expression_attribute_names("#d", device_id)
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":cutoff", n(now_ms.saturating_sub(window_ms)))
            .send()
            .await;
        applied(result)
    }

    async fn release_push_slot(&self, user_id: &str, device_id: &str, claimed_at: u64) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.users)
            .set_key(Some(user_key(user_id)))
            .update_expression("REMOVE devices.#d.lastPushAt")
            .condition_expression("devices.#d.lastPushAt = :claimed")
            .expression_attribute_names("#d", device_id)
            .expression_attribute_values(":claimed", n(claimed_at))
            .send()
            .await;
        applied(result)?;
        Ok(())
    }

    async fn set_device_keys(
        &self,
        user_id: &str,
        device_id: &str,
        keys: Option<&StoredIdentityKeys>,
        fallback: Option<&OneTimeKey>,
    ) -> Result<Option<Option<StoredIdentityKeys>>, StoreError> {
        if keys.is_none() && fallback.is_none() {
            let registry = self.device_registry(user_id).await?;
            return Ok(registry.devices.get(device_id).map(|d| d.keys.clone()));
        }
        let mut sets = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.users)
            .set_key(Some(user_key(user_id)))
            .condition_expression("attribute_exists(devices.#d)")
            .expression_attribute_names("#d", device_id)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        if let Some(keys) = keys {
            // Identity keys never change: a second upload keeps the first.
            sets.push("devices.#d.#keys = if_not_exists(devices.#d.#keys, :keys)");
            update = update
                .expression_attribute_names("#keys", "keys")
                .expression_attribute_values(":keys", serde_dynamo::to_attribute_value(keys)?);
        }
        if let Some(fallback) = fallback {
            sets.push("devices.#d.fallbackKey = :fallback");
            update = update.expression_attribute_values(":fallback", serde_dynamo::to_attribute_value(fallback)?);
        }
        match update.update_expression(format!("SET {}", sets.join(", "))).send().await {
            Ok(out) => {
                let user: UserDevices = serde_dynamo::from_item(out.attributes.unwrap_or_default())?;
                Ok(Some(user.devices.get(device_id).and_then(|d| d.keys.clone())))
            }
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn devices_of(&self, user_ids: &[String]) -> Result<HashMap<String, UserDevices>, StoreError> {
        let keys = user_ids.iter().map(|u| user_key(u.as_ref())).collect();
        let items = self.batch_get(&self.tables.users, keys, Some("userId, devices, lastSeen, privacy")).await?;
        items
            .into_iter()
            .map(|item| {
                let user: UserDevices = serde_dynamo::from_item(item)?;
                Ok((user.user_id.clone(), user))
            })
            .collect()
    }
}

impl DynamoStore {
    async fn clear_connection_made_before(
        &self,
        user_id: &str,
        device_id: &str,
        connection_id: &str,
        connected_before: Option<u64>,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.users)
            .set_key(Some(user_key(user_id)))
            .update_expression("REMOVE devices.#d.connectionId, devices.#d.connectedAt SET lastSeen = :now")
            .condition_expression("devices.#d.connectionId = :c")
            .expression_attribute_names("#d", device_id)
            .expression_attribute_values(":c", s(connection_id))
            .expression_attribute_values(":now", n(now_ms));
        if let Some(before) = connected_before {
            update = update
                .condition_expression("devices.#d.connectionId = :c AND devices.#d.connectedAt < :before")
                .expression_attribute_values(":before", n(before));
        }
        applied(update.send().await)
    }

    /// Sets one map attribute of the user's item (creating the item if need be).
    async fn set_user_attribute(&self, user_id: &str, name: &str, value: &impl Serialize) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.tables.users)
            .set_key(Some(user_key(user_id)))
            .update_expression("SET #attribute = :value")
            .expression_attribute_names("#attribute", name)
            .expression_attribute_values(":value", AttributeValue::M(serde_dynamo::to_item(value)?))
            .send()
            .await?;
        Ok(())
    }
}
