//! Retention: an inbox entry past its 30 days is never served and is left to
//! TTL; the scheduled cleanup removes connections past API Gateway's 2 hours.
//! Items are written as if old.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::config::Tables;
use domain::ids::device_key;
use domain::model::{ConnectionRecord, EntryKind, InboxEntry};
use domain::ports::{ConnectionTable, InboxTable, UserTable};
use domain::time::now_millis;
use e2e_tests::{System, unique};
use serde_json::json;
use store::DynamoStore;

const DAY: u64 = 86_400;

async fn store(system: &System) -> DynamoStore {
    let tables = Tables {
        users: system.table("UsersTable"),
        connections: system.table("ConnectionsTable"),
        chats: system.table("ChatsTable"),
        messages: system.table("MessagesTable"),
        inbox: system.table("InboxTable"),
        client_message_ids: system.table("ClientMessageIdsTable"),
        memberships: system.table("MembershipsTable"),
        presence_subscriptions: system.table("PresenceSubscriptionsTable"),
        attachments: system.table("AttachmentsTable"),
        rate_limits: system.table("RateLimitsTable"),
        contacts: system.table("ContactsTable"),
        one_time_keys: system.table("OneTimeKeysTable"),
    };
    DynamoStore::new(system.dynamo().await, tables)
}

/// An inbox entry for a message sent `age_days` ago (kept 30 days).
fn entry(user: &str, age_days: u64, text: &str) -> InboxEntry {
    let device = device_key(user, "phone");
    let sent_at = now_millis() / 1000 - age_days * DAY;
    let expires_at = sent_at + 30 * DAY;
    let id = format!("{:026}", age_days);
    let frame = json!({ "type": "newMessage", "chatId": "c", "messageId": id, "seq": 100 - age_days, "senderId": "old", "senderDevice": "d",
                        "clientMessageId": id, "message": text, "attachments": [], "mentions": [], "sentAt": sent_at * 1000 });
    InboxEntry {
        device_key: device,
        entry_id: id,
        chat_id: "c".into(),
        seq: 100 - age_days,
        kind: EntryKind::NewMessage,
        sender_id: Some("old".into()),
        frame: frame.to_string(),
        expires_at,
        discarded: false,
    }
}

async fn inbox_has(system: &System, entry: &InboxEntry) -> bool {
    let item = system
        .dynamo()
        .await
        .get_item()
        .table_name(system.table("InboxTable"))
        .key("deviceKey", AttributeValue::S(entry.device_key.clone()))
        .key("entryId", AttributeValue::S(entry.entry_id.clone()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    item.item.is_some()
}

#[tokio::test]
async fn an_inbox_entry_past_30_days_is_never_served_and_left_to_ttl() {
    let system = System::start().await;
    let store = store(&system).await;
    let user = unique("sleeper");
    let (old, recent) = (entry(&user, 31, "too old"), entry(&user, 29, "still valid"));
    store.put_inbox_entries(&[old.clone(), recent.clone()]).await.unwrap();

    // Delivery never serves the expired one, even before the cleanup.
    let mut client = system.connect(&user, "phone").await;
    assert_eq!(client.sync().await["delivered"], 1);
    assert_eq!(client.messages(1).await[0]["message"], "still valid");

    let recent_id = recent.entry_id.clone();
    assert_eq!(client.request(serde_json::json!({ "action": "ack", "messageId": recent_id })).await["count"], 1);
    assert_eq!(client.sync().await["delivered"], 0, "the expired one is not served on the next sync either");

    // Deleting it is TTL's (free, within days): the table expires entries
    // by `expiresAt`, and the cleanup leaves the inbox alone.
    let ttl = system.dynamo().await.describe_time_to_live().table_name(system.table("InboxTable")).send().await.unwrap();
    let ttl = ttl.time_to_live_description.expect("TTL described");
    assert_eq!(ttl.attribute_name(), Some("expiresAt"));
    assert_eq!(ttl.time_to_live_status().map(|s| s.as_str()), Some("ENABLED"));
    system.runtime.run_scheduled("CleanupFunction").await.unwrap();
    assert!(inbox_has(&system, &old).await, "the cleanup leaves the expired entry to TTL");
}

#[tokio::test]
async fn cleanup_removes_a_connection_past_api_gateways_two_hours() {
    let system = System::start().await;
    let store = store(&system).await;
    let user = unique("ghost");
    let three_hours_ago = now_millis() - 3 * 3_600_000;
    store.register_device_connection(&user, "phone", "staleConn0000=", three_hours_ago, 3).await.unwrap();
    store
        .put_connection(&ConnectionRecord::new("staleConn0000=", &user, "phone", three_hours_ago, std::time::Duration::from_secs(660)))
        .await
        .unwrap();
    // A fresh one on another device stays.
    let mut live = system.connect(&user, "laptop").await;

    let report = system.runtime.run_scheduled("CleanupFunction").await.unwrap();
    assert_eq!(report["staleConnections"], 1, "{report}");
    let users = store.devices_of(std::slice::from_ref(&user)).await.unwrap();
    let devices = &users[&user].devices;
    assert_eq!(devices["phone"].connection_id, None, "the stale connection is cleared");
    assert!(devices["laptop"].connection_id.is_some(), "the live one is not");
    let record = system
        .dynamo()
        .await
        .get_item()
        .table_name(system.table("ConnectionsTable"))
        .key("connectionId", AttributeValue::S("staleConn0000=".into()))
        .send()
        .await
        .unwrap();
    assert!(record.item.is_none(), "the stale connection record is deleted");
    assert_eq!(live.sync().await["type"], "synced");
}
