//! Group membership, several devices per user, receipts and unread state.

use std::collections::BTreeSet;
use std::time::Duration;

use e2e_tests::{Client, System, modify_participants, number, text, unique, unpack};
use futures::future::join_all;
use serde_json::{Value, json};

async fn chat_list(client: &mut Client) -> Vec<Value> {
    let reply = client.request(json!({ "action": "listChats" })).await;
    assert_eq!(reply["type"], "chats", "{reply}");
    reply["chats"].as_array().cloned().unwrap()
}

fn seqs_of_messages(frames: &[Value]) -> BTreeSet<u64> {
    frames.iter().flat_map(|f| unpack(f.clone())).filter(|f| f["type"] == "newMessage").map(|m| number(&m, "seq")).collect()
}

#[tokio::test]
async fn a_removed_member_gets_nothing_accepted_after_the_removal_and_everyone_else_gets_everything() {
    let system = System::start().await;
    let [admin, b, c, d] = ["admin", "b", "c", "d"].map(unique);
    let mut admin_c = system.connect(&admin, "phone").await;
    let mut b_c = system.connect(&b, "phone").await;
    let mut c_c = system.connect(&c, "phone").await;
    let mut d_c = system.connect(&d, "phone").await;
    let chat = admin_c.chat_with(&[&b, &c, &d], Some("burst")).await;

    const EACH: usize = 15;
    async fn send(client: &mut Client, chat: &str, tag: &str) {
        for i in 0..EACH {
            assert_eq!(client.send_message(chat, &format!("{tag}{i}"), "burst").await["status"], "SUCCESS");
        }
    }
    let remover = async {
        tokio::time::sleep(Duration::from_millis(120)).await;
        modify_participants(&mut admin_c, &chat, &d, "REMOVE").await
    };
    let (_, _, removed) = tokio::join!(send(&mut b_c, &chat, "b"), send(&mut c_c, &chat, "c"), remover);
    assert_eq!(removed["type"], "participantsModified", "{removed}");
    let removed_at = number(&removed, "seq");
    let total = (2 * EACH) as u64;
    assert!(removed_at < total, "the removal landed mid-burst (at {removed_at})");

    // D: live frames, then whatever its inbox still holds.
    let mut d_frames = d_c.drain(Duration::from_millis(300)).await;
    d_c.request(json!({ "action": "sync" })).await;
    d_frames.extend(d_c.drain(Duration::from_millis(300)).await);
    let d_seqs = seqs_of_messages(&d_frames);
    assert_eq!(d_seqs, (1..=removed_at).collect(), "D gets every message accepted before the removal and none after");
    let update = d_frames.iter().flat_map(|f| unpack(f.clone())).find(|f| f["type"] == "chatUpdate").expect("D is told it was removed");
    assert_eq!(update["operation"], "REMOVE");
    assert_eq!(update["userId"], d.as_str());

    // The admin (not sending) receives all of them.
    let got = admin_c.messages(2 * EACH).await;
    assert_eq!(got.iter().map(|m| number(m, "seq")).collect::<BTreeSet<_>>(), (1..=total).collect());

    // D can no longer send, and its chat list stops at the removal.
    assert_eq!(d_c.send_message(&chat, "late", "still here?").await["code"], "not_member");
    let listed = chat_list(&mut d_c).await.into_iter().find(|c| c["chatId"] == chat.as_str()).unwrap();
    assert_eq!(number(&listed, "removedAtSeq"), removed_at);
    assert_eq!(number(&listed, "lastSeq"), removed_at);
}

#[tokio::test]
async fn concurrent_adds_racing_at_99_members_end_at_exactly_100() {
    let system = System::start().await;
    let admin = unique("admin");
    let others: Vec<String> = (0..98).map(|i| unique(&format!("m{i}"))).collect();
    let mut devices = join_all(["phone", "laptop", "tablet"].map(|d| system.connect(&admin, d))).await;
    let names: Vec<&str> = others.iter().map(String::as_str).collect();
    let created = devices[0].create_chat(&names, Some("almost full")).await;
    assert_eq!(created["participants"].as_array().unwrap().len(), 99);
    let chat = text(&created, "chatId").to_owned();

    let newcomers: Vec<String> = (0..3).map(|i| unique(&format!("new{i}"))).collect();
    let replies = join_all(devices.iter_mut().zip(&newcomers).map(|(client, user)| modify_participants(client, &chat, user, "ADD"))).await;
    let added: Vec<&Value> = replies.iter().filter(|r| r["type"] == "participantsModified").collect();
    let refused: Vec<&Value> = replies.iter().filter(|r| r["code"] == "too_many_members").collect();
    assert_eq!((added.len(), refused.len()), (1, 2), "{replies:?}");
    assert_eq!(added[0]["participants"].as_array().unwrap().len(), 100);
    let listed = chat_list(&mut devices[0]).await.into_iter().find(|c| c["chatId"] == chat.as_str()).unwrap();
    assert_eq!(listed["participants"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn only_admins_add_anyone_may_leave_and_one_to_one_chats_never_change() {
    let system = System::start().await;
    let [admin, member, outsider] = ["admin", "member", "outsider"].map(unique);
    let mut a = system.connect(&admin, "phone").await;
    let mut m = system.connect(&member, "phone").await;
    let group = a.chat_with(&[&member], Some("club")).await;
    assert_eq!(modify_participants(&mut m, &group, &outsider, "ADD").await["code"], "forbidden");
    assert_eq!(modify_participants(&mut m, &group, &admin, "REMOVE").await["code"], "forbidden");
    let left = modify_participants(&mut m, &group, &member, "REMOVE").await;
    assert_eq!(left["participants"], json!([admin]));
    let dm = a.chat_with(&[&member], None).await;
    assert_eq!(modify_participants(&mut a, &dm, &outsider, "ADD").await["code"], "invalid_request");
}

#[tokio::test]
async fn every_device_gets_every_message_acks_independently_and_a_fourth_is_refused() {
    let system = System::start().await;
    let (sender, user) = (unique("sender"), unique("multi"));
    let mut s = system.connect(&sender, "phone").await;
    let mut phone = system.connect(&user, "phone").await;
    let mut laptop = system.connect(&user, "laptop").await;
    let mut tablet = system.connect(&user, "tablet").await;
    let chat = s.chat_with(&[&user], None).await;
    let sent = s.send_message(&chat, "m1", "to all your devices").await;

    for device in [&mut phone, &mut laptop, &mut tablet] {
        assert_eq!(device.messages(1).await[0]["messageId"], sent["messageId"]);
    }
    // The phone's ack does not empty the laptop's inbox.
    assert_eq!(phone.ack(&[text(&sent, "messageId")]).await["count"], 1);
    laptop.close().await;
    let mut laptop = system.connect(&user, "laptop").await;
    laptop.sync().await;
    assert_eq!(laptop.messages(1).await[0]["messageId"], sent["messageId"]);
    let mut phone_again = {
        phone.close().await;
        system.connect(&user, "phone").await
    };
    phone_again.sync().await;
    let replayed: Vec<_> =
        phone_again.drain(Duration::from_millis(300)).await.into_iter().flat_map(unpack).filter(|f| f["type"] == "newMessage").collect();
    assert!(replayed.is_empty(), "the phone acked it: {replayed:?}");

    // A fourth device connects, but unregistered: it may only manage devices.
    let token = system.runtime.issue_token(&user, "watch");
    let mut watch = Client::open(&system.url_with_token(&token)).await.expect("a fourth device connects unregistered");
    let refused = watch.send_message(&chat, "w1", "from the watch").await;
    assert_eq!(refused["code"], "device_not_registered", "{refused}");
    assert_eq!(watch.sync().await["code"], "device_not_registered");
    let listed = watch.request(json!({ "action": "listDevices" })).await;
    assert_eq!(listed["currentRegistered"], false, "{listed}");
    let names: Vec<&str> = listed["devices"].as_array().unwrap().iter().map(|d| text(d, "deviceId")).collect();
    assert_eq!(names, ["laptop", "phone", "tablet"]);
    s.send_message(&chat, "m-unregistered", "not for the watch").await;
    let gone = tablet.request(json!({ "action": "unregisterDevice" })).await;
    assert_eq!(gone["type"], "deviceUnregistered", "{gone}");
    watch.close().await;
    let mut watch = Client::open(&system.url_with_token(&token)).await.expect("room for the watch now");
    assert_eq!(watch.request(json!({ "action": "listDevices" })).await["currentRegistered"], true);
    s.send_message(&chat, "m2", "hello watch").await;
    assert_eq!(watch.messages(1).await[0]["message"], "hello watch", "only what was sent after it registered");
}

#[tokio::test]
async fn mark_read_on_the_phone_clears_unread_on_the_laptop() {
    let system = System::start().await;
    let (sender, user) = (unique("sender"), unique("reader"));
    let mut s = system.connect(&sender, "phone").await;
    let mut phone = system.connect(&user, "phone").await;
    let mut laptop = system.connect(&user, "laptop").await;
    let chat = s.chat_with(&[&user], None).await;
    for i in 0..3 {
        s.send_message(&chat, &format!("u{i}"), "unread").await;
    }
    laptop.messages(3).await;
    let before = chat_list(&mut laptop).await;
    assert_eq!(before[0]["unreadCount"], 3);

    let marked = phone.request(json!({ "action": "markRead", "chatId": chat, "upToSeq": 3 })).await;
    assert_eq!(marked["lastRead"], 3, "{marked}");
    let synced = laptop.frames_of("readSync", 1).await.remove(0);
    assert_eq!((synced["chatId"].as_str(), synced["upToSeq"].as_u64()), (Some(chat.as_str()), Some(3)));
    assert_eq!(chat_list(&mut laptop).await[0]["unreadCount"], 0);
}

#[tokio::test]
async fn the_sender_sees_delivered_then_read() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    b.accept(&chat).await;
    let sent = a.send_message(&chat, "r1", "did you get this?").await;
    let seq = number(&sent, "seq");
    let status = a.request(json!({ "action": "messageStatus", "chatId": chat, "seq": seq })).await;
    assert_eq!(status["recipients"], json!([{ "userId": bob, "delivered": false, "read": false }]));

    let got = b.messages(1).await.remove(0);
    b.ack(&[text(&got, "messageId")]).await;
    let delivered = a.frames_of("receipt", 1).await.remove(0);
    assert_eq!((delivered["status"].as_str(), delivered["userId"].as_str()), (Some("delivered"), Some(bob.as_str())));
    assert_eq!(number(&delivered, "upToSeq"), seq);

    b.request(json!({ "action": "markRead", "chatId": chat, "upToSeq": seq })).await;
    let read = a.frames_of("receipt", 1).await.remove(0);
    assert_eq!(read["status"], "read");
    let status = a.request(json!({ "action": "messageStatus", "chatId": chat, "seq": seq })).await;
    assert_eq!(status["recipients"], json!([{ "userId": bob, "delivered": true, "read": true }]));
    assert_eq!(b.request(json!({ "action": "messageStatus", "chatId": chat, "seq": seq })).await["code"], "forbidden");
}

#[tokio::test]
async fn the_chat_list_orders_by_activity_and_counts_unread_messages_and_mentions() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let mut c = system.connect(&carol, "phone").await;
    let group = a.chat_with(&[&bob, &carol], Some("trio")).await;
    let dm = b.chat_with(&[&alice], None).await;

    b.send_message(&group, "g1", &format!("hi @{alice}, look")).await;
    c.send_message(&group, "g2", "hey all").await;
    a.send_message(&group, "g3", "my own message").await;
    c.send_message(&group, "g4", &format!("@{alice} @{bob} ping")).await;
    b.send_message(&dm, "d1", "psst").await;
    b.send_message(&dm, "d2", "psst again").await;

    let list = chat_list(&mut a).await;
    let ids: Vec<&str> = list.iter().map(|c| text(c, "chatId")).collect();
    assert_eq!(ids, [dm.as_str(), group.as_str()], "most recently active first");
    assert_eq!((list[0]["unreadCount"].as_u64(), list[0]["mentionCount"].as_u64()), (Some(2), Some(0)));
    // Alice's own message at seq 3 marks 1-3 read: only seq 4 is unread, and it mentions her.
    assert_eq!((list[1]["unreadCount"].as_u64(), list[1]["mentionCount"].as_u64()), (Some(1), Some(1)));
    let bob_list = chat_list(&mut b).await;
    let bob_group = bob_list.iter().find(|c| c["chatId"] == group.as_str()).unwrap();
    assert_eq!((bob_group["unreadCount"].as_u64(), bob_group["mentionCount"].as_u64()), (Some(3), Some(1)));

    a.request(json!({ "action": "markRead", "chatId": group, "upToSeq": 4 })).await;
    c.send_message(&group, "g5", "new activity").await;
    let list = chat_list(&mut a).await;
    assert_eq!(list[0]["chatId"], group.as_str(), "the group is active again");
    assert_eq!((list[0]["unreadCount"].as_u64(), list[0]["mentionCount"].as_u64()), (Some(1), Some(0)));
    assert_eq!(list[1]["unreadCount"], 2);
}

/// Group info: admins rename a group, describe it, make admins and step
/// down; members see it live, an offline device on `sync`, and the chat list
/// and `GET /chats/{id}` show it. Members who are not admins may do none of it.
#[tokio::test]
async fn admins_name_describe_promote_and_demote_and_every_device_sees_it() {
    let system = System::start().await;
    let [alice, bob, carol, dave] = ["alice", "bob", "carol", "dave"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    system.connect(&carol, "laptop").await.close().await;
    let chat = a.chat_with(&[&bob, &carol], Some("first name")).await;
    b.accept(&chat).await;

    let renamed =
        a.request(json!({ "action": "updateChat", "chatId": chat, "name": "  Trip  ", "description": "Lisbon, May\nbring boots" })).await;
    assert_eq!(renamed["type"], "chatInfo", "{renamed}");
    let fields = |f: &Value| ["name", "description", "by"].map(|k| f[k].clone());
    assert_eq!(fields(&renamed), [json!("Trip"), json!("Lisbon, May\nbring boots"), json!(alice)]);
    let live = b.wait_for(|f| f["type"] == "chatInfo").await;
    assert_eq!(fields(&live), fields(&renamed), "{live}");
    // Carol's laptop was offline: it catches up on sync.
    let mut laptop = system.connect(&carol, "laptop").await;
    assert_eq!(laptop.sync().await["type"], "synced");
    let caught_up = laptop.wait_for(|f| unpack(f.clone()).iter().any(|e| e["type"] == "chatInfo")).await;
    let info = unpack(caught_up).into_iter().find(|e| e["type"] == "chatInfo").unwrap();
    assert_eq!(fields(&info), fields(&renamed));
    // Acknowledged by its eventId, it leaves the laptop's inbox.
    assert!(system.inbox_of(&carol, "laptop").await.contains(&text(&info, "eventId").to_owned()));
    let acked = laptop.request(json!({ "action": "ack", "eventIds": [info["eventId"]] })).await;
    assert_eq!(acked["count"], 1, "{acked}");
    assert!(!system.inbox_of(&carol, "laptop").await.contains(&text(&info, "eventId").to_owned()));
    let listed = chat_list(&mut b).await.into_iter().find(|c| c["chatId"] == chat.as_str()).unwrap();
    assert_eq!((listed["name"].clone(), listed["description"].clone()), (json!("Trip"), json!("Lisbon, May\nbring boots")));

    // Only admins, only groups, and within limits; a refusal changes nothing.
    let by_member = b.request(json!({ "action": "updateChat", "chatId": chat, "name": "mine" })).await;
    assert_eq!(by_member["code"], "forbidden", "{by_member}");
    let too_long = a.request(json!({ "action": "updateChat", "chatId": chat, "description": "x".repeat(513) })).await;
    assert_eq!(too_long["code"], "invalid_request", "{too_long}");
    assert_eq!(a.request(json!({ "action": "updateChat", "chatId": chat })).await["code"], "invalid_request");
    let direct = a.chat_with(&[&dave], None).await;
    assert_eq!(a.request(json!({ "action": "updateChat", "chatId": direct, "name": "x" })).await["code"], "invalid_request");
    let details = system.http(&bob).get(&format!("/chats/{chat}")).await;
    assert_eq!((details.body["name"].clone(), details.body["description"].clone()), (json!("Trip"), json!("Lisbon, May\nbring boots")));
    // An empty description clears it.
    let cleared = a.request(json!({ "action": "updateChat", "chatId": chat, "description": "" })).await;
    assert_eq!(cleared["description"], Value::Null, "{cleared}");
    assert_eq!(cleared["name"], "Trip");

    // Bob may not make admins; alice makes him one, and then he may add dave.
    assert_eq!(modify_participants(&mut b, &chat, &carol, "PROMOTE").await["code"], "forbidden");
    let promoted = modify_participants(&mut a, &chat, &bob, "PROMOTE").await;
    let mut both = vec![alice.clone(), bob.clone()];
    both.sort();
    assert_eq!(promoted["admins"], json!(both), "{promoted}");
    let told = b.wait_for(|f| f["type"] == "chatUpdate" && f["operation"] == "PROMOTE").await;
    assert_eq!(told["userId"], bob.as_str());
    assert_eq!(modify_participants(&mut b, &chat, &dave, "ADD").await["type"], "participantsModified");
    assert_eq!(modify_participants(&mut a, &chat, &dave, "PROMOTE").await["type"], "participantsModified");
    assert_eq!(modify_participants(&mut a, &chat, &dave, "PROMOTE").await["code"], "invalid_request", "already an admin");
    // Admins step down or demote others, but a group keeps one.
    assert_eq!(modify_participants(&mut b, &chat, &bob, "DEMOTE").await["type"], "participantsModified");
    assert_eq!(modify_participants(&mut b, &chat, &dave, "DEMOTE").await["code"], "forbidden", "bob is no admin any more");
    assert_eq!(modify_participants(&mut a, &chat, &dave, "DEMOTE").await["admins"], json!([alice]));
    let last = modify_participants(&mut a, &chat, &alice, "DEMOTE").await;
    assert_eq!(last["code"], "invalid_request", "{last}");
    let listed = system.http(&alice).get(&format!("/chats/{chat}")).await;
    assert_eq!(listed.body["admins"], json!([alice]));
}
