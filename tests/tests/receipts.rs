//! Delivered receipts and pushes where they meet other features: racing
//! sends, expiry, unregistering, a sender's own devices. Every test failed
//! before its fix (issue 10).

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ids::device_key;
use e2e_tests::{System, eventually, register_push, text, unique, unpack};
use serde_json::{Value, json};

/// Waits until the receipts function has handled `count` more REMOVE records than `before`.
async fn receipts_handled(system: &System, before: usize, count: usize) {
    eventually("the receipts function handles the removals", || async { system.records_handled("ReceiptsFunction") >= before + count })
        .await;
}

fn receipts_in(frames: &[Value]) -> Vec<Value> {
    frames.iter().cloned().flat_map(unpack).filter(|f| f["type"] == "receipt").collect()
}

/// Defect 1: a cancelled transaction (here: a retry racing its original)
/// made moto replace the inbox stream, and the poller read nothing after it.
#[tokio::test]
async fn after_racing_sends_receipts_and_pushes_still_flow() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    register_push(&mut b).await;
    let chat = a.chat_with(&[&bob], None).await;

    // The same clientMessageId twice without waiting: one of the two is cancelled.
    for request in ["r1", "r2"] {
        a.send(json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "same-id", "message": "twice", "requestId": request }))
            .await;
    }
    let first = a.wait_for(|f| f["requestId"] == "r1").await;
    let second = a.wait_for(|f| f["requestId"] == "r2").await;
    assert_eq!(first["messageId"], second["messageId"], "one message");

    let third = a.send_message(&chat, "third", "after the race").await;
    let got = b.wait_for(|f| f["type"] == "newMessage" && f["seq"] == third["seq"]).await;
    b.ack(&[text(&got, "messageId")]).await;
    let receipt = a.wait_for(|f| f["type"] == "receipt" && f["status"] == "delivered" && f["upToSeq"] == third["seq"]).await;
    assert_eq!(receipt["userId"], bob.as_str());

    b.close().await;
    a.send_message(&chat, "offline", "are you there?").await;
    eventually("bob's phone gets a push", || async { !system.pushes_to(&bob, "phone").await.is_empty() }).await;
}

/// Defect 2: an unregistered device's discarded inbox (and, before TTL was
/// left to remove expired entries, the cleanup's deletes) looked like acks
/// and made "delivered" receipts.
#[tokio::test]
async fn only_acks_make_delivered_receipts_not_expiry_or_unregistering() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    system.connect(&bob, "phone").await.close().await;
    let mut laptop = system.connect(&bob, "laptop").await;
    let chat = a.chat_with(&[&bob], None).await;
    let sent = a.send_message(&chat, "m1", "never read on the phone").await;
    laptop.messages(1).await; // received live, deliberately not acked

    // The phone's entry outlives its 30 days and is deleted after (as TTL
    // does, in its own time): its REMOVE record makes no receipt.
    let phone_key = device_key(&bob, "phone");
    let entry_key = |d: &str| {
        [("deviceKey", AttributeValue::S(d.to_owned())), ("entryId", AttributeValue::S(text(&sent, "messageId").to_owned()))]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<std::collections::HashMap<_, _>>()
    };
    let expired_at = domain::time::now_secs() - 60;
    let dynamo = system.dynamo().await;
    dynamo
        .update_item()
        .table_name(system.table("InboxTable"))
        .set_key(Some(entry_key(&phone_key)))
        .update_expression("SET expiresAt = :at")
        .expression_attribute_values(":at", AttributeValue::N(expired_at.to_string()))
        .send()
        .await
        .unwrap();
    let before = system.records_handled("ReceiptsFunction");
    dynamo.delete_item().table_name(system.table("InboxTable")).set_key(Some(entry_key(&phone_key))).send().await.unwrap();
    receipts_handled(&system, before, 1).await;

    // The laptop is unregistered (lost): its inbox is discarded.
    let before = system.records_handled("ReceiptsFunction");
    let mut tablet = system.connect(&bob, "tablet").await;
    let gone = tablet.request(json!({ "action": "unregisterDevice", "deviceId": "laptop" })).await;
    assert_eq!(gone["discarded"], 2, "the chat's notice and the message: {gone}");
    receipts_handled(&system, before, 2).await;

    let status = a.request(json!({ "action": "messageStatus", "chatId": chat, "seq": 1 })).await;
    assert_eq!(status["recipients"], json!([{ "userId": bob, "delivered": false, "read": false }]));
    assert!(receipts_in(&a.drain(Duration::from_millis(200)).await).is_empty(), "no receipt for a message no device received");
}

/// Defect 3: the sender's own offline devices were pushed their own messages.
#[tokio::test]
async fn the_senders_offline_devices_get_their_own_message_in_the_inbox_but_no_push() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut tablet = system.connect(&alice, "tablet").await;
    register_push(&mut tablet).await;
    tablet.close().await;
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    let sent = a.send_message(&chat, "mine", "from my phone").await;
    // The tablet's inbox holds the chat's notice and the message (bob has no device yet).
    eventually("the push function sees the tablet's entries", || async { system.records_handled("PushFunction") >= 2 }).await;
    assert!(system.pushes_to(&alice, "tablet").await.is_empty(), "no push of one's own message");

    let mut tablet = system.connect(&alice, "tablet").await;
    tablet.sync().await;
    assert_eq!(tablet.messages(1).await[0]["messageId"], sent["messageId"], "the tablet still gets it on sync");
}

/// A message both of the recipient's devices acknowledge gets one delivered
/// receipt, not one per device.
#[tokio::test]
async fn a_message_acknowledged_on_two_devices_gets_one_delivered_receipt() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut phone = system.connect(&bob, "phone").await;
    let mut laptop = system.connect(&bob, "laptop").await;
    let chat = a.chat_with(&[&bob], None).await;
    let sent = a.send_message(&chat, "m1", "two devices").await;
    let id = text(&sent, "messageId").to_owned();
    phone.messages(1).await;
    laptop.messages(1).await;
    let before = system.records_handled("ReceiptsFunction");
    phone.ack(&[&id]).await;
    a.wait_for(|f| f["type"] == "receipt" && f["status"] == "delivered").await;
    laptop.ack(&[&id]).await;
    receipts_handled(&system, before, 2).await;
    let again = receipts_in(&a.drain(Duration::from_millis(200)).await);
    assert!(again.is_empty(), "one delivered receipt, not one per device: {again:?}");
}
