//! What a `TransactWriteItems` consumes, as AWS bills it. DynamoDB Local
//! reports every other operation's capacity as AWS does (item sizes rounded
//! up per 1 KB written or 4 KB read, indexes included), but not a
//! transaction's: measured 2026-11-24 with the npm package's DynamoDB Local,
//! it reports 4 units per KB of the largest item whatever the number of items
//! (1, 2 or 5 small puts: 4 each; AWS: 2, 4, 10). The local AWS proxy
//! therefore answers a transaction with the units AWS's published rule gives:
//! every action — Put, Update, Delete, ConditionCheck — is two writes of its
//! item (prepare and commit) of `ceil(size / 1 KB)` units each, where the size
//! is the item as the transaction left it (or put it: AWS bills the larger
//! of before and after, and no transaction here shrinks an item); every
//! global secondary index the written item belongs to adds the same for its
//! projection (an update rewrites an `ALL` projection; a `KEYS_ONLY` one only
//! when a key changes, which no update here does; no transaction here deletes
//! an item). The items and table schemas are read from DynamoDB Local once
//! the transaction is done, so the reading does not widen the window in which
//! concurrent writers contend for those items.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value, json};

/// Bytes an attribute value takes in DynamoDB's item size (AWS's rules:
/// strings and binaries by length, numbers ~1 byte per two significant digits
/// plus one, lists and maps 3 bytes plus 1 per element).
fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else { return 0 };
    match (kind.as_str(), inner) {
        ("S", Value::String(s)) => s.len(),
        ("N", Value::String(n)) => number_size(n),
        ("B", Value::String(b)) => b.len() * 3 / 4,
        ("BOOL" | "NULL", _) => 1,
        ("SS", Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::len).sum(),
        ("NS", Value::Array(items)) => items.iter().filter_map(Value::as_str).map(number_size).sum(),
        ("BS", Value::Array(items)) => items.iter().filter_map(Value::as_str).map(|b| b.len() * 3 / 4).sum(),
        ("L", Value::Array(items)) => 3 + items.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        ("M", Value::Object(map)) => 3 + map.iter().map(|(k, v)| k.len() + value_size(v) + 1).sum::<usize>(),
        _ => 0,
    }
}

fn number_size(n: &str) -> usize {
    let digits = n.trim_start_matches('-').replace('.', "");
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

pub fn item_size(item: &Map<String, Value>) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn kilobytes(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

#[derive(Clone, Debug)]
struct Index {
    keys: Vec<String>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    projection: String,
    included: Vec<String>,
}

#[derive(Clone, Debug)]
struct Schema {
    keys: Vec<String>,
    indexes: Vec<Index>,
}

fn key_names(schema: &Value) -> Vec<String> {
    schema.as_array().into_iter().flatten().filter_map(|k| k["AttributeName"].as_str().map(str::to_owned)).collect()
}

/// Table schemas (read once per table) and the DynamoDB Local it asks.
pub struct TransactionCapacity {
    upstream: String,
    client: reqwest::Client,
    schemas: Mutex<HashMap<String, Schema>>,
}

/// One action of a transaction: its table, key, and the item it puts.
struct Action {
    table: String,
    key: Map<String, Value>,
    put: Option<Map<String, Value>>,
    update: bool,
    condition_only: bool,
}

impl TransactionCapacity {
    pub fn new(upstream: String, client: reqwest::Client) -> Self {
        Self { upstream, client, schemas: Mutex::default() }
    }

    async fn call(&self, authorization: &str, operation: &str, body: Value) -> Option<Value> {
        let answer = self
            .client
            .post(&self.upstream)
            .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
            .header("content-type", "application/x-amz-json-1.0")
            .header("authorization", authorization)
            .body(body.to_string())
            .send()
            .await
            .ok()?;
        answer.status().is_success().then_some(())?;
        answer.json().await.ok()
    }

    async fn schema(&self, authorization: &str, table: &str) -> Option<Schema> {
        if let Some(schema) = self.schemas.lock().ok()?.get(table) {
            return Some(schema.clone());
        }
        let described = self.call(authorization, "DescribeTable", json!({"TableName": table})).await?;
        let table_info = &described["Table"];
        let indexes = table_info["GlobalSecondaryIndexes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|index| Index {
                keys: key_names(&index["KeySchema"]),
                projection: index["Projection"]["ProjectionType"].as_str().unwrap_or("ALL").to_owned(),
                included: index["Projection"]["NonKeyAttributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .collect(),
            })
            .collect();
        let schema = Schema { keys: key_names(&table_info["KeySchema"]), indexes };
        self.schemas.lock().ok()?.insert(table.to_owned(), schema.clone());
        Some(schema)
    }

    /// The `ConsumedCapacity` list AWS would answer `request` (a
    /// `TransactWriteItems` body) with, one entry per table; `None` when the
    /// request cannot be read (then DynamoDB Local's own answer stands).
    pub async fn of(&self, authorization: &str, request: &Value) -> Option<Value> {
        let mut actions = Vec::new();
        for item in request["TransactItems"].as_array()? {
            let (kind, action) = item.as_object()?.iter().next()?;
            let table = action["TableName"].as_str()?.to_owned();
            let put = action["Item"].as_object().cloned();
            let key = match &put {
                Some(item) => {
                    let schema = self.schema(authorization, &table).await?;
                    schema.keys.iter().filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone()))).collect()
                }
                None => action["Key"].as_object()?.clone(),
            };
            actions.push(Action { table, key, put, update: kind == "Update", condition_only: kind == "ConditionCheck" });
        }
        // The items, as the transaction left them.
        let mut wanted: HashMap<&str, Vec<&Map<String, Value>>> = HashMap::new();
        for action in &actions {
            let keys = wanted.entry(action.table.as_str()).or_default();
            if !keys.contains(&&action.key) {
                keys.push(&action.key);
            }
        }
        let request_items: Map<String, Value> =
            wanted.iter().map(|(table, keys)| ((*table).to_owned(), json!({"Keys": keys, "ConsistentRead": true}))).collect();
        let found = self.call(authorization, "BatchGetItem", json!({"RequestItems": request_items})).await?;
        let stored = |action: &Action| -> Option<Map<String, Value>> {
            found["Responses"][&action.table]
                .as_array()?
                .iter()
                .filter_map(Value::as_object)
                .find(|item| action.key.iter().all(|(k, v)| item.get(k) == Some(v)))
                .cloned()
        };

        let mut by_table: HashMap<String, f64> = HashMap::new();
        for action in &actions {
            let schema = self.schema(authorization, &action.table).await?;
            let before = stored(action);
            let size =
                [before.as_ref(), action.put.as_ref()].into_iter().flatten().map(item_size).max().unwrap_or_else(|| item_size(&action.key));
            let mut units = 2.0 * kilobytes(size);
            let written = action.put.as_ref().or(before.as_ref());
            if let Some(item) = written.filter(|_| !action.condition_only) {
                for index in &schema.indexes {
                    if !index.keys.iter().all(|k| item.contains_key(k)) || (action.update && index.projection == "KEYS_ONLY") {
                        continue;
                    }
                    let projected = match index.projection.as_str() {
                        "ALL" => item_size(item),
                        _ => item
                            .iter()
                            .filter(|(name, _)| schema.keys.contains(name) || index.keys.contains(name) || index.included.contains(name))
                            .map(|(name, value)| name.len() + value_size(value))
                            .sum(),
                    };
                    units += 2.0 * kilobytes(projected);
                }
            }
            *by_table.entry(action.table.clone()).or_default() += units;
        }
        Some(Value::Array(
            by_table
                .into_iter()
                .map(|(table, units)| json!({"TableName": table, "CapacityUnits": units, "WriteCapacityUnits": units}))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_sizes_follow_dynamodbs_rules() {
        let item = json!({
            "chatId": {"S": "c1"},          // 6 + 2
            "seq": {"N": "12345"},          // 3 + 4
            "members": {"SS": ["ab", "c"]}, // 7 + 3
            "muted": {"BOOL": true},        // 5 + 1
        });
        assert_eq!(item_size(item.as_object().unwrap()), 31);
        assert_eq!(kilobytes(1024), 1.0);
        assert_eq!(kilobytes(1025), 2.0);
        assert_eq!(kilobytes(0), 1.0);
    }
}
