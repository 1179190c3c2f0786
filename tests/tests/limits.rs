//! Every request limit answers with a typed error and changes nothing.

use e2e_tests::{System, number, unique};
use serde_json::json;

#[tokio::test]
async fn each_request_limit_is_enforced() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;

    let ids: Vec<String> = (0..101).map(|i| format!("id{i}")).collect();
    assert_eq!(a.request(json!({ "action": "ack", "messageIds": ids })).await["code"], "invalid_request", "ack takes at most 100 ids");
    assert_eq!(a.request(json!({ "action": "ack", "messageIds": [] })).await["code"], "invalid_request", "ack takes at least one id");
    assert_eq!(a.request(json!({ "action": "sync", "limit": 1001 })).await["code"], "invalid_request", "sync returns at most 1000");
    assert_eq!(a.request(json!({ "action": "sync", "limit": 0 })).await["code"], "invalid_request");
    let long_name = "n".repeat(101);
    assert_eq!(a.create_chat(&[&bob, "carol"], Some(&long_name)).await["code"], "invalid_request", "names are at most 100 characters");
    assert_eq!(a.create_chat(&[&bob, "carol"], None).await["code"], "invalid_request", "a group needs a name");
    assert_eq!(a.create_chat(&["bad#id"], None).await["code"], "invalid_request", "participant ids are plain");
    let long_id = "c".repeat(65);
    assert_eq!(a.send_message(&chat, &long_id, "hi").await["code"], "invalid_request", "clientMessageId is at most 64");
    let token = "t".repeat(4097);
    assert_eq!(a.request(json!({ "action": "registerPush", "platform": "GCM", "token": token })).await["code"], "invalid_request");
    let long_request_id = "r".repeat(129);
    a.send(json!({ "action": "sync", "requestId": long_request_id })).await;
    assert_eq!(a.wait_for(|f| f["type"] == "error").await["code"], "invalid_request", "requestId is at most 128");

    assert_eq!(number(&a.send_message(&chat, "ok", "nothing above changed anything").await, "seq"), 1);
}
