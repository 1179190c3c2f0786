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

/// API Gateway delivers no WebSocket message over 128 KB. Twenty groups of 99
/// members with 64-character ids make a chat list of ~137 KB, which a single
/// `chats` reply could never bring (issue 13): it comes in pages, each under
/// the limit, and together they hold every chat once.
#[tokio::test]
async fn a_chat_list_larger_than_one_websocket_message_comes_in_pages() {
    let system = System::start().await;
    let (stranger, victim) = (unique("stranger"), unique("victim"));
    let long_id = |i: usize| {
        let id = format!("{}{i:03}{}", unique("m"), "x".repeat(64));
        id[..64].to_owned()
    };
    let mut s = system.connect(&stranger, "phone").await;
    let others: Vec<String> = (0..97).map(long_id).collect();
    let mut created = std::collections::BTreeSet::new();
    for group in 0..20 {
        let mut participants: Vec<&str> = others.iter().map(String::as_str).collect();
        participants.push(&victim);
        let reply = s.create_chat(&participants, Some(&format!("group {group}"))).await;
        assert_eq!(reply["type"], "chatCreated", "{reply}");
        created.insert(reply["chatId"].as_str().unwrap().to_owned());
    }

    let mut v = system.connect(&victim, "phone").await;
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let mut request = json!({ "action": "listChats" });
        if let Some(cursor) = &cursor {
            request["cursor"] = json!(cursor);
        }
        let page = v.request(request).await;
        assert_eq!(page["type"], "chats", "every page is delivered: {}", &page.to_string()[..page.to_string().len().min(300)]);
        assert!(page.to_string().len() < 128 * 1024, "a page fits one WebSocket message: {} bytes", page.to_string().len());
        listed.extend(page["chats"].as_array().unwrap().iter().map(|c| c["chatId"].as_str().unwrap().to_owned()));
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "the pages end");
    let distinct: std::collections::BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(listed.len(), distinct.len(), "no chat twice");
    assert_eq!(distinct, created, "every chat once");
}
