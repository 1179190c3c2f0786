//! RateLimits table: one counter per (limit, subject, window). Each charge is
//! one conditional `UpdateItem`, atomic across every Lambda instance; a
//! counter expires (TTL) a window after its window ends.
//!
//! A counter item takes at most its own subject's rate (a few writes a second
//! at most, the limits being what they are), far below a partition's 1,000
//! writes a second: no sharding needed.

use super::{DynamoStore, applied, n, s};
use async_trait::async_trait;
use domain::error::StoreError;
use domain::ports::RateLimitTable;
use std::collections::HashMap;

#[async_trait]
impl RateLimitTable for DynamoStore {
    async fn charge_counter(&self, counter: &str, amount: u64, max: u64, expires_at_secs: u64) -> Result<bool, StoreError> {
        if amount > max {
            return Ok(false);
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.rate_limits)
            .set_key(Some(HashMap::from([("counter".to_owned(), s(counter))])))
            .update_expression("ADD used :amount SET expiresAt = :expires")
            .condition_expression("attribute_not_exists(used) OR used <= :room")
            .expression_attribute_values(":amount", n(amount))
            .expression_attribute_values(":room", n(max - amount))
            .expression_attribute_values(":expires", n(expires_at_secs))
            .send()
            .await;
        applied(result)
    }
}
