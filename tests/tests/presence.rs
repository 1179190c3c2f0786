//! Presence: online while any device is connected, offline on disconnect or
//! when heartbeats stop; watchers who share a chat are told.

use std::time::Duration;

use e2e_tests::{System, WAIT_ASYNC, eventually, number, unique};
use futures::future::join_all;
use local_runtime::Quotas;
use serde_json::json;

#[tokio::test]
async fn presence_goes_online_then_offline_on_disconnect_and_on_missed_heartbeats_and_peers_are_told() {
    let system = System::start_with_parameters(Quotas::default(), &[("PresenceTimeoutSeconds", "3")]).await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    a.create_chat(&[&bob], None).await;

    let watching = a.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await;
    assert_eq!(watching["type"], "presenceList", "{watching}");
    assert_eq!(watching["users"][0], json!({ "userId": bob, "online": false }), "never seen yet");
    let before = shared::time::now_millis();

    // Online with the first device, and a second device changes nothing.
    let phone = system.connect(&bob, "phone").await;
    let online = a.frames_of("presence", 1).await.remove(0);
    assert_eq!((online["userId"].as_str(), online["online"].as_bool()), (Some(bob.as_str()), Some(true)));
    let laptop = system.connect(&bob, "laptop").await;
    laptop.close().await;
    let extra: Vec<_> = a.drain(Duration::from_millis(400)).await.into_iter().filter(|f| f["type"] == "presence").collect();
    assert!(extra.is_empty(), "still online while the phone is connected: {extra:?}");

    // Offline on disconnect, with lastSeen.
    phone.close().await;
    let offline = a.frames_of("presence", 1).await.remove(0);
    assert_eq!(offline["online"], false);
    assert!(number(&offline, "lastSeen") > before);

    // Offline when heartbeats stop, though the socket stays open.
    let mut silent = system.connect(&bob, "phone").await;
    assert_eq!(a.frames_of("presence", 1).await[0]["online"], true);
    assert_eq!(silent.request(json!({ "action": "heartbeat" })).await["type"], "heartbeatAck");
    // Past the 3-second presence timeout since that last heartbeat (alice then
    // beats and the sweep runs: 3 s of slack on a busy machine).
    let beat_at = shared::time::now_millis();
    eventually("the silent device's heartbeat is older than the timeout", || async { shared::time::now_millis() > beat_at + 3500 }).await;
    assert_eq!(a.request(json!({ "action": "heartbeat" })).await["type"], "heartbeatAck", "alice keeps beating");
    let swept = system.runtime.run_scheduled("PresenceSweepFunction").await.unwrap();
    assert_eq!(swept["sweptConnections"], 1, "{swept}");
    assert_eq!(a.frames_of("presence", 1).await[0]["online"], false, "heartbeats stopped: offline");
    assert_eq!(silent.closed().await, Some(1000), "the swept connection is closed so the client reconnects");

    let asked = a.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await;
    assert_eq!(asked["users"][0]["online"], false);
}

#[tokio::test]
async fn presence_is_only_for_people_you_share_a_chat_with() {
    let system = System::start().await;
    let (alice, stranger) = (unique("alice"), unique("stranger"));
    let mut a = system.connect(&alice, "phone").await;
    let refused = a.request(json!({ "action": "subscribePresence", "userIds": [stranger] })).await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    let too_many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    assert_eq!(a.request(json!({ "action": "subscribePresence", "userIds": too_many })).await["code"], "invalid_request");
}

/// Coming online costs `$connect` the same with many watchers as with none:
/// watchers are told from the users table's stream (PresenceChangesFunction),
/// and one change reaches at most `PresenceWatchersMax` of them (issue 13).
#[tokio::test]
async fn connecting_does_not_wait_for_watchers_and_a_change_reaches_at_most_the_cap() {
    let system = System::start_with_parameters(Quotas::default(), &[("PresenceWatchersMax", "5")]).await;
    let bob = unique("bob");
    let watchers: Vec<String> = (0..8).map(|i| unique(&format!("watcher{i}"))).collect();
    let mut clients = join_all(watchers.iter().map(|w| system.connect(w, "phone"))).await;
    let others: Vec<&str> = watchers[1..].iter().map(String::as_str).chain([bob.as_str()]).collect();
    clients[0].create_chat(&others, Some("watching bob")).await;
    for client in &mut clients {
        let watching = client.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await;
        assert_eq!(watching["users"][0]["online"], false, "{watching}");
    }

    let _phone = system.connect(&bob, "phone").await;
    let connect = system.runtime.invocations().into_iter().rfind(|i| i.function == "ConnectFunction").expect("bob's $connect");
    assert_eq!(connect.calls.count("PostToConnection"), 0, "$connect posts nothing: {}", connect.calls);
    assert!(connect.calls.total() <= 4, "$connect registers the device and the connection, nothing more: {}", connect.calls);

    let mut told = vec![false; clients.len()];
    let deadline = tokio::time::Instant::now() + WAIT_ASYNC;
    while told.iter().filter(|t| **t).count() < 5 {
        assert!(tokio::time::Instant::now() < deadline, "five watchers hear bob is online within {WAIT_ASYNC:?}: {told:?}");
        for (client, told) in clients.iter_mut().zip(told.iter_mut()) {
            *told |= client.drain(Duration::from_millis(20)).await.iter().any(|f| f["type"] == "presence" && f["online"] == true);
        }
    }
    for (client, told) in clients.iter_mut().zip(told.iter_mut()) {
        *told |= client.drain(Duration::from_millis(100)).await.iter().any(|f| f["type"] == "presence");
    }
    assert_eq!(told.iter().filter(|t| **t).count(), 5, "one change reaches at most PresenceWatchersMax watchers");
    let asked = clients[7].request(json!({ "action": "subscribePresence", "userIds": [bob] })).await;
    assert_eq!(asked["users"][0]["online"], true, "a watcher past the cap sees it on asking");
}
