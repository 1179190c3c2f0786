//! Lost devices: unregistered from another device or from a new one when
//! all are lost (issue 10).

use e2e_tests::{Client, Http, System, eventually, number, register_push, text, unique};
use serde_json::json;

/// Defect 6: an unregistered device kept its socket, inbox, endpoint and
/// tokens; a user whose 3 devices were lost could never get back in.
#[tokio::test]
async fn unregistering_a_lost_device_closes_it_revokes_its_tokens_and_empties_its_inbox() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let lost_token = system.runtime.issue_token(&bob, "phone");
    let mut lost = Client::open(&system.url_with_token(&lost_token)).await.unwrap();
    register_push(&mut lost).await;
    let mut laptop = system.connect(&bob, "laptop").await;
    let chat = a.chat_with(&[&bob], None).await;
    a.send_message(&chat, "m1", "hello").await;
    lost.messages(1).await;
    assert_eq!(system.inbox_of(&bob, "phone").await.len(), 2, "the notice and the message, unacked");
    let state = e2e_tests::moto_state().await;
    let owner = format!("{bob}#phone");
    let endpoints = state["sns"]["PlatformEndpoint"].as_array().cloned().unwrap_or_default();
    let endpoint = endpoints.iter().find(|e| e["custom_user_data"] == owner.as_str()).expect("the phone's endpoint")["arn"]
        .as_str()
        .unwrap()
        .to_owned();

    let listed = laptop.request(json!({ "action": "listDevices" })).await;
    let devices: Vec<(&str, bool, bool)> = listed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (text(d, "deviceId"), d["current"].as_bool().unwrap(), d["online"].as_bool().unwrap()))
        .collect();
    assert_eq!(devices, [("laptop", true, true), ("phone", false, true)], "{listed}");
    assert_eq!(listed["devices"][1]["pushPlatform"], "GCM");

    let gone = laptop.request(json!({ "action": "unregisterDevice", "deviceId": "phone" })).await;
    assert_eq!(gone["type"], "deviceUnregistered", "{gone}");
    assert_eq!(lost.closed().await, Some(1000), "the lost phone's socket is closed");
    assert!(system.inbox_of(&bob, "phone").await.is_empty(), "its inbox is discarded");
    let deleted = system.sns().await.get_endpoint_attributes().endpoint_arn(&endpoint).send().await;
    assert!(deleted.is_err(), "its push endpoint is deleted");

    // Its token no longer opens a socket or the HTTP API; nothing reaches it.
    assert_eq!(Client::open(&system.url_with_token(&lost_token)).await.err(), Some(401));
    assert_eq!(Http::new(system.http_url(), Some(lost_token.clone())).get("/chats").await.status, 403);
    a.send_message(&chat, "m2", "after").await;
    assert!(system.inbox_of(&bob, "phone").await.is_empty());
    let listed = laptop.request(json!({ "action": "listDevices" })).await;
    assert_eq!(listed["devices"].as_array().unwrap().len(), 1);

    // A token issued after the revocation registers the device afresh.
    eventually("a new second starts", || async { domain::time::now_secs() > number(&gone, "_arrivedAtMicros") / 1_000_000 }).await;
    let fresh = system.runtime.issue_token(&bob, "phone");
    let mut phone = Client::open(&system.url_with_token(&fresh)).await.expect("a fresh token works");
    a.send_message(&chat, "m3", "welcome back").await;
    assert_eq!(phone.messages(1).await[0]["message"], "welcome back");
}

#[tokio::test]
async fn a_user_whose_devices_are_all_lost_frees_a_slot_from_a_new_one() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    for device in ["one", "two", "three"] {
        system.connect(&bob, device).await.close().await;
    }
    let mut new = system.connect(&bob, "new").await;
    assert_eq!(new.request(json!({ "action": "listChats" })).await["code"], "device_not_registered");
    let own_http = Http::new(system.http_url(), Some(system.runtime.issue_token(&bob, "new")));
    assert_eq!(own_http.get("/chats").await.status, 403, "an unregistered device has no HTTP access");
    let gone = new.request(json!({ "action": "unregisterDevice", "deviceId": "one" })).await;
    assert_eq!(gone["type"], "deviceUnregistered", "{gone}");
    let mut own = new.request(json!({ "action": "unregisterDevice" })).await;
    assert_eq!(own["code"], "invalid_request", "the new device is not registered itself: {own}");
    new.close().await;

    let mut new = system.connect(&bob, "new").await;
    assert_eq!(own_http.get("/chats").await.status, 200, "registered now");
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    a.send_message(&chat, "hi", "hi on the new phone").await;
    assert_eq!(new.messages(1).await[0]["message"], "hi on the new phone");

    // Unregistering itself answers, then closes its socket.
    own = new.request(json!({ "action": "unregisterDevice" })).await;
    assert_eq!((own["type"].as_str(), own["deviceId"].as_str()), (Some("deviceUnregistered"), Some("new")), "{own}");
    assert_eq!(new.closed().await, Some(1000));
}
