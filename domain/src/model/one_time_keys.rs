//! One-time keys table: each device's unclaimed one-time public keys for
//! end-to-end encryption (docs/e2ee.md). Partition: the device
//! (`user#device`), sort: the device's key id. A claim deletes the key it
//! hands out with a condition that it is still there, so a key is handed
//! out once however many claims race for it.

use serde::{Deserialize, Serialize};

use super::OneTimeKey;

/// A device holds at most this many unclaimed keys: uploads past it are refused.
pub const MAX_ONE_TIME_KEYS: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeKeyItem {
    pub device_key: String,
    pub key_id: String,
    pub key: String,
}

impl OneTimeKeyItem {
    pub fn new(device_key: &str, key: &OneTimeKey) -> Self {
        Self { device_key: device_key.to_owned(), key_id: key.key_id.clone(), key: key.key.clone() }
    }
}

impl From<OneTimeKeyItem> for OneTimeKey {
    fn from(item: OneTimeKeyItem) -> Self {
        OneTimeKey { key_id: item.key_id, key: item.key }
    }
}
