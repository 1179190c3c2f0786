//! Presence: online while any device is connected, offline on disconnect or
//! when heartbeats stop; watchers who share a chat are told.

use std::time::Duration;

use e2e_tests::{System, WAIT_ASYNC, eventually, number, text, unique};
use futures::future::join_all;
use serde_json::json;

#[tokio::test]
async fn presence_goes_online_then_offline_on_disconnect_and_on_missed_heartbeats_and_peers_are_told() {
    let system = System::builder().parameters(&[("PresenceTimeoutSeconds", "3")]).start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    // Bob accepts alice's chat (until then it shows her nothing of him).
    let mut phone = system.connect(&bob, "phone").await;
    phone.accept(&chat).await;

    let watching = a.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await;
    assert_eq!(watching["type"], "presenceList", "{watching}");
    assert_eq!(watching["users"][0], json!({ "userId": bob, "online": true }));
    let before = domain::time::now_millis();
    // (Bob's coming online may still reach alice, announced after she subscribed.)
    let is_presence = |online: bool| move |f: &serde_json::Value| f["type"] == "presence" && f["online"] == online;

    // Offline on disconnect, with lastSeen.
    phone.close().await;
    let offline = a.wait_for(is_presence(false)).await;
    assert!(number(&offline, "lastSeen") >= before, "{offline} vs {before}");

    // Online with the first device, and a second device changes nothing.
    let phone = system.connect(&bob, "phone").await;
    let online = a.wait_for(is_presence(true)).await;
    assert_eq!(online["userId"], bob.as_str());
    let laptop = system.connect(&bob, "laptop").await;
    laptop.close().await;
    let extra: Vec<_> = a.drain(Duration::from_millis(400)).await.into_iter().filter(is_presence(false)).collect();
    assert!(extra.is_empty(), "still online while the phone is connected: {extra:?}");

    // Offline on disconnect again.
    phone.close().await;
    a.wait_for(is_presence(false)).await;

    // Offline when heartbeats stop, though the socket stays open.
    let mut silent = system.connect(&bob, "phone").await;
    a.wait_for(is_presence(true)).await;
    assert_eq!(silent.request(json!({ "action": "heartbeat" })).await["type"], "heartbeatAck");
    // Its 3-second heartbeat window ended more than the 3-second timeout ago
    // (alice then beats and the sweep runs: 3 s of slack on a busy machine).
    let beat_at = domain::time::now_millis();
    let window_end = (beat_at / 3000 + 1) * 3000;
    eventually("the silent device's window ended a timeout ago", || async { domain::time::now_millis() > window_end + 3500 }).await;
    assert_eq!(a.request(json!({ "action": "heartbeat" })).await["type"], "heartbeatAck", "alice keeps beating");
    let swept = system.runtime.run_scheduled("PresenceSweepFunction").await.unwrap();
    assert_eq!(swept["sweptConnections"], 1, "{swept}");
    a.wait_for(is_presence(false)).await;
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
    let system = System::builder().parameters(&[("PresenceWatchersMax", "5")]).start().await;
    let bob = unique("bob");
    let watchers: Vec<String> = (0..8).map(|i| unique(&format!("watcher{i}"))).collect();
    let mut clients = join_all(watchers.iter().map(|w| system.connect(w, "phone"))).await;
    let others: Vec<&str> = watchers[1..].iter().map(String::as_str).chain([bob.as_str()]).collect();
    let group = clients[0].chat_with(&others, Some("watching bob")).await;
    // Bob accepts the invitation (until then the group shows nothing of him).
    let mut setup = system.connect(&bob, "setup").await;
    setup.accept(&group).await;
    setup.close().await;
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
        *told |= client.drain(Duration::from_millis(100)).await.iter().any(|f| f["type"] == "presence" && f["online"] == true);
    }
    assert_eq!(told.iter().filter(|t| **t).count(), 5, "one change reaches at most PresenceWatchersMax watchers");
    let asked = clients[7].request(json!({ "action": "subscribePresence", "userIds": [bob] })).await;
    assert_eq!(asked["users"][0]["online"], true, "a watcher past the cap sees it on asking");
}

/// The request a chat of `user`'s is, as their chat list shows it.
async fn is_request(client: &mut e2e_tests::Client, chat: &str) -> bool {
    let list = client.request(json!({ "action": "listChats" })).await;
    let summary = list["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == chat).cloned().expect("the chat is listed");
    summary.get("request").and_then(serde_json::Value::as_bool).unwrap_or(false)
}

/// Consent before contact (issue 13): a chat from someone the user never
/// accepted is a message request (a group, an invitation) until they accept
/// it or reply. Until then its sender sees no presence, last seen, profile or
/// read receipt of theirs (delivery is reported, as the server's own doing),
/// and their chat list marks it apart.
/// Someone the user accepted (they created a chat with them) may add them
/// to a group directly.
#[tokio::test]
async fn a_chat_from_a_stranger_is_a_request_that_shows_them_nothing_until_accepted() {
    let system = System::start().await;
    let (mallory, bob, alice) = (unique("mallory"), unique("bob"), unique("alice"));
    let mut m = system.connect(&mallory, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let mut a = system.connect(&alice, "phone").await;

    let direct = m.chat_with(&[&bob], None).await;
    let group = m.chat_with(&[&bob, &alice], Some("strangers")).await;
    assert!(is_request(&mut b, &direct).await && is_request(&mut b, &group).await, "both are requests for bob");
    assert!(!is_request(&mut m, &direct).await, "the one who asked chose the chat");

    // Nothing of bob reaches mallory: presence, profile, receipts.
    let refused = m.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    assert_eq!(system.http(&mallory).get(&format!("/users/{bob}")).await.status, 404);
    let sent = m.send_message(&direct, "r1", "hello stranger").await;
    let got = b.messages(1).await.remove(0);
    assert_eq!(got["message"], "hello stranger", "a request's messages arrive, to be read before accepting");
    assert_eq!(b.ack(&[text(&got, "messageId")]).await["count"], 1);
    assert_eq!(m.frames_of("receipt", 1).await[0]["status"], "delivered");
    assert_eq!(b.request(json!({ "action": "markRead", "chatId": direct, "upToSeq": 1 })).await["type"], "markedRead");
    let status = m.request(json!({ "action": "messageStatus", "chatId": direct, "seq": number(&sent, "seq") })).await;
    assert_eq!(status["recipients"][0], json!({ "userId": bob, "delivered": true, "read": false }), "{status}");
    let receipts: Vec<_> = m.drain(Duration::from_millis(500)).await.into_iter().filter(|f| f["type"] == "receipt").collect();
    assert!(receipts.is_empty(), "no read receipt: {receipts:?}");

    // Accepting shows bob to mallory through that chat; the group stays a request.
    let accepted = b.request(json!({ "action": "acceptChat", "chatId": direct })).await;
    assert_eq!(accepted["type"], "chatAccepted", "{accepted}");
    assert!(!is_request(&mut b, &direct).await && is_request(&mut b, &group).await);
    assert_eq!(m.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await["type"], "presenceList");
    assert_eq!(system.http(&mallory).get(&format!("/users/{bob}")).await.status, 200);
    // Replying accepts the invitation.
    let reply = b.send_message(&group, "g1", "fine, hi").await;
    assert_eq!(reply["status"], "SUCCESS", "{reply}");
    assert!(!is_request(&mut b, &group).await, "a reply accepts");

    // Bob accepted alice by creating a chat with her: her group is no request for him.
    b.chat_with(&[&alice], None).await;
    let carol = unique("carol");
    let mut c = system.connect(&carol, "phone").await;
    let known = a.chat_with(&[&bob, &carol], Some("friends")).await;
    assert!(!is_request(&mut b, &known).await, "someone bob accepted adds him directly");
    assert!(is_request(&mut c, &known).await, "carol never accepted alice");
}

/// Typing indicators go to the other members' connected devices with an
/// expiry, are never stored (an offline device that syncs later gets none),
/// neither reach nor come from a member who has not accepted the chat, are
/// refused outside it, and are limited per device.
#[tokio::test]
async fn typing_reaches_connected_members_only_is_never_stored_and_is_limited() {
    let system = System::builder().parameters(&[("RateLimits", "typing=4/60")]).start().await;
    let [alice, bob, carol, mallory] = ["alice", "bob", "carol", "mallory"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut a_laptop = system.connect(&alice, "laptop").await;
    let mut b = system.connect(&bob, "phone").await;
    // Bob's tablet is registered, and offline while alice types.
    system.connect(&bob, "tablet").await.close().await;
    let mut c = system.connect(&carol, "phone").await;
    let group = a.chat_with(&[&bob, &carol], Some("typing")).await;
    b.accept(&group).await; // carol does not accept
    let tablet_inbox = system.inbox_of(&bob, "tablet").await;

    let sent = a.request(json!({ "action": "typing", "chatId": group, "typing": true })).await;
    assert_eq!((sent["type"].as_str(), sent["chatId"].as_str(), sent["devices"].as_u64()), (Some("typingSent"), Some(&*group), Some(1)));
    let shown = b.wait_for(|f| f["type"] == "typing").await;
    let fields = ["chatId", "userId", "typing", "expiresInMs"].map(|k| shown[k].clone());
    assert_eq!(fields, [json!(group), json!(alice), json!(true), json!(6000)], "{shown}");
    // Without a requestId nothing answers a success; bob sees it stop.
    a.send(json!({ "action": "typing", "chatId": group, "typing": false })).await;
    let stopped = b.wait_for(|f| f["type"] == "typing").await;
    assert_eq!((stopped["typing"].clone(), stopped["expiresInMs"].clone()), (json!(false), json!(0)));

    // Carol has not accepted: her typing shows to no one.
    let from_carol = c.request(json!({ "action": "typing", "chatId": group, "typing": true })).await;
    assert_eq!(from_carol["devices"], 0, "{from_carol}");
    let mut m = system.connect(&mallory, "phone").await;
    let outside = m.request(json!({ "action": "typing", "chatId": group, "typing": true })).await;
    assert_eq!(outside["code"], "not_member", "{outside}");

    // Never stored: bob's tablet syncs and finds nothing of it.
    assert_eq!(system.inbox_of(&bob, "tablet").await, tablet_inbox, "its inbox holds what it held before (the new chat)");
    let mut tablet = system.connect(&bob, "tablet").await;
    let synced = tablet.request(json!({ "action": "sync" })).await;
    assert_eq!(synced["type"], "synced", "{synced}");
    let caught_up: Vec<_> = tablet.drain(Duration::from_millis(300)).await.into_iter().flat_map(e2e_tests::unpack).collect();
    assert!(caught_up.iter().any(|f| f["type"] == "newChat"), "sync delivered the stored events: {caught_up:?}");
    assert!(caught_up.iter().all(|f| f["type"] != "typing"), "{caught_up:?}");

    // Alice's phone has used 2 of its 4; the 5th is refused and changes nothing.
    for _ in 0..2 {
        assert_eq!(a.request(json!({ "action": "typing", "chatId": group, "typing": true })).await["type"], "typingSent");
    }
    let limited = a.request(json!({ "action": "typing", "chatId": group, "typing": true })).await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    assert!(number(&limited, "retryAfter") >= 1);
    // Her laptop has its own allowance (and bob's tablet is online now).
    assert_eq!(a_laptop.request(json!({ "action": "typing", "chatId": group, "typing": true })).await["devices"], 2);

    // Neither alice's own other device nor carol ever saw an indicator.
    for (who, client) in [("alice's laptop", &mut a_laptop), ("carol", &mut c)] {
        let frames = client.drain(Duration::from_millis(300)).await;
        assert!(frames.iter().all(|f| f["type"] != "typing"), "{who}: {frames:?}");
    }
    let seen = b.drain(Duration::from_millis(300)).await.into_iter().filter(|f| f["type"] == "typing").count();
    assert_eq!(seen, 3, "bob saw alice's two renewals and her laptop's, not the refused one");
}

/// A watch belongs to one connection of one device: a device reconnecting
/// and subscribing each time keeps one watch (61 reconnects made 60 watches
/// for one open socket, each change posted to all of them), and a watch whose
/// connection is gone ends at the first change posted to it.
#[tokio::test]
async fn a_device_reconnecting_keeps_one_watch_and_a_gone_connections_watch_ends() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    let mut phone = system.connect(&bob, "phone").await;
    phone.accept(&chat).await;
    for _ in 0..10 {
        a = system.connect(&alice, "phone").await;
        let watching = a.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await;
        assert_eq!(watching["type"], "presenceList", "{watching}");
    }
    let watches = system.partition("PresenceSubscriptionsTable", "userId", &bob).await;
    assert_eq!(watches.len(), 1, "one watch for alice's phone: {watches:?}");

    phone.close().await;
    let offline = a.wait_for(|f| f["type"] == "presence" && f["online"] == false).await;
    assert_eq!(offline["userId"], bob.as_str());

    // Alice's socket ends; bob's next change finds it gone and ends the watch.
    a.close().await;
    let _phone = system.connect(&bob, "phone").await;
    eventually("the gone connection's watch ends", || async {
        system.partition("PresenceSubscriptionsTable", "userId", &bob).await.is_empty()
    })
    .await;
}
