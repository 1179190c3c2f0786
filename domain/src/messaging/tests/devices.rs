//! Devices: at most the configured number per user, one live connection
//! each, an inbox each; unregistering one ends its connection and inbox.

use serde_json::json;

use super::{World, code, connection, request, who};
use crate::ids::{DeviceId, device_key};
use crate::protocol::ServerFrame;

#[tokio::test]
async fn a_fourth_device_is_refused() {
    let world = World::new();
    for device in ["phone", "laptop", "tablet"] {
        world.device("alice", device).await;
    }
    let watch = who("alice", "watch");
    let refused = super::super::connect(world.ctx(), &watch, &connection(&watch)).await;
    assert_eq!(code(refused), "too_many_devices");
}

#[tokio::test]
async fn a_new_connection_of_a_device_closes_its_old_one() {
    let world = World::new();
    let alice = world.person("alice").await;
    super::super::connect(world.ctx(), &alice, "second-socket").await.unwrap();
    assert_eq!(world.kinds(&alice), ["connectionReplaced"], "told first, so it does not reconnect");
    assert_eq!(world.fakes.delivery.closed(), [connection(&alice)]);
}

#[tokio::test]
async fn each_device_has_its_own_inbox() {
    let world = World::new();
    let alice = world.person("alice").await;
    let (phone, laptop) = (world.person("bob").await, world.device("bob", "laptop").await);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "to both").await;
    let phone_entries = world.fakes.store.inbox_of(&device_key("bob", "phone"));
    let entry = phone_entries.iter().find(|e| e.is_message()).unwrap();
    super::super::ack(world.ctx(), &phone, vec![entry.entry_id.clone()]).await.unwrap();
    assert!(world.inbox_texts(&phone).is_empty(), "acked on the phone");
    assert_eq!(world.inbox_texts(&laptop), ["to both"], "still waiting for the laptop");
}

#[tokio::test]
async fn an_unregistered_device_loses_its_inbox_and_gets_nothing_more() {
    let world = World::new();
    let alice = world.person("alice").await;
    let (phone, laptop) = (world.person("bob").await, world.device("bob", "laptop").await);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "before").await;
    let device = Some(DeviceId::parse("laptop").unwrap());
    super::super::unregister_device(world.ctx(), &phone, &connection(&phone), None, device).await.unwrap();
    assert!(world.inbox_texts(&laptop).is_empty());
    assert!(world.fakes.delivery.closed().contains(&connection(&laptop)), "its socket is closed");
    world.sent(&alice, &chat, "after").await;
    assert!(world.inbox_texts(&laptop).is_empty());
    assert_eq!(world.inbox_texts(&phone), ["before", "after"]);
    let registry = world.ctx().store.device_registry("bob").await.unwrap();
    assert!(registry.revoked_at("laptop").is_some(), "its tokens are refused from now on");
}

#[tokio::test]
async fn the_device_list_names_each_device() {
    let world = World::new();
    let alice = world.person("alice").await;
    world.device("alice", "laptop").await;
    match super::super::list_devices(world.ctx(), &alice).await.unwrap() {
        ServerFrame::Devices { devices, .. } => {
            let ids: Vec<String> = devices.iter().map(|d| d.device_id.to_string()).collect();
            assert_eq!(ids, ["laptop", "phone"]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_gone_connection_is_forgotten_unless_it_may_still_be_connecting() {
    let world = World::new();
    let alice = world.person("alice").await;
    let chat = world.direct(&alice, "bob").await;
    // Bob's phone connected a minute ago; its socket is gone since.
    let a_minute_ago = crate::time::now_millis() - 60_000;
    world.ctx().store.register_device_connection("bob", "phone", "old-socket", a_minute_ago, 3).await.unwrap();
    world.fakes.delivery.hang_up("old-socket");
    world.sent(&alice, &chat, "anyone?").await;
    let phone = || async { world.ctx().store.devices_of(&["bob".to_owned()]).await.unwrap()["bob"].devices["phone"].clone() };
    assert_eq!(phone().await.connection_id, None, "forgotten: bob counts as offline (and gets pushes)");

    // A connection this young may answer 410 before its `$connect` finished.
    let bob = world.person("bob").await;
    world.fakes.delivery.hang_up(&connection(&bob));
    world.sent(&alice, &chat, "again?").await;
    assert_eq!(phone().await.connection_id, Some(connection(&bob)), "kept within the grace");
    assert_eq!(world.inbox_texts(&bob), ["anyone?", "again?"], "every message waits in the inbox");
}

#[tokio::test]
async fn push_registration_takes_a_token_over_from_the_device_that_had_it() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let token = json!({ "platform": "GCM", "token": "shared-phone-token" });
    super::super::register_push(world.ctx(), &alice, request(token.clone())).await.unwrap();
    super::super::register_push(world.ctx(), &bob, request(token)).await.unwrap();
    let devices = world.ctx().store.devices_of(&["alice".to_owned(), "bob".to_owned()]).await.unwrap();
    assert!(devices["alice"].devices["phone"].push.is_none(), "alice's device no longer gets bob's pushes");
    let arn = &devices["bob"].devices["phone"].push.as_ref().unwrap().endpoint_arn;
    assert!(world.fakes.push.exists(arn));
    let apns = super::super::register_push(world.ctx(), &alice, request(json!({ "platform": "APNS", "token": "t" }))).await;
    assert_eq!(code(apns), "push_unavailable", "this deployment offers GCM only");
}

#[tokio::test]
async fn an_offline_device_with_push_is_pushed_once_per_burst() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    super::super::register_push(world.ctx(), &bob, request(json!({ "platform": "GCM", "token": "bob-token" }))).await.unwrap();
    let chat = world.direct(&alice, "bob").await;
    super::super::accept_chat(world.ctx(), &bob, request(json!({ "chatId": chat }))).await.unwrap();
    super::super::disconnect(world.ctx(), &bob, &connection(&bob)).await.unwrap();
    for text in ["one", "two"] {
        world.sent(&alice, &chat, text).await;
    }
    // What the inbox stream hands the push consumer: the new entries, in
    // the order they were written (entry ids made in one millisecond need
    // not sort so).
    let mut entries: Vec<_> = world.fakes.store.inbox_of(&device_key("bob", "phone")).into_iter().filter(|e| e.is_message()).collect();
    entries.sort_by_key(|e| e.seq);
    let new: Vec<super::super::NewEntry> =
        entries.into_iter().enumerate().map(|(n, entry)| super::super::NewEntry { record_id: n.to_string(), entry }).collect();
    let retry = super::super::push_offline(world.ctx(), &new).await.unwrap();
    assert!(retry.is_empty());
    assert_eq!(world.fakes.push.published(), 1, "one push for the burst");
    let devices = world.ctx().store.devices_of(&["bob".to_owned()]).await.unwrap();
    let arn = &devices["bob"].devices["phone"].push.as_ref().unwrap().endpoint_arn;
    let payload: serde_json::Value = serde_json::from_str(&world.fakes.push.published_to(arn)[0]).unwrap();
    assert_eq!(payload["default"], "alice: two (+1 more)");
}

#[tokio::test]
async fn a_push_for_a_request_has_no_preview() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    super::super::register_push(world.ctx(), &bob, request(json!({ "platform": "GCM", "token": "bob-token" }))).await.unwrap();
    super::super::disconnect(world.ctx(), &bob, &connection(&bob)).await.unwrap();
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "buy my crypto").await;
    let entries: Vec<_> = world.fakes.store.inbox_of(&device_key("bob", "phone")).into_iter().filter(|e| e.is_message()).collect();
    let new: Vec<super::super::NewEntry> =
        entries.into_iter().map(|entry| super::super::NewEntry { record_id: "r".into(), entry }).collect();
    super::super::push_offline(world.ctx(), &new).await.unwrap();
    let devices = world.ctx().store.devices_of(&["bob".to_owned()]).await.unwrap();
    let arn = &devices["bob"].devices["phone"].push.as_ref().unwrap().endpoint_arn;
    let payload: serde_json::Value = serde_json::from_str(&world.fakes.push.published_to(arn)[0]).unwrap();
    assert_eq!(payload["default"], "New message", "a stranger's words are not shown on the lock screen");
}
