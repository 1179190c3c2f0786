//! Core messaging over real WebSockets: 1-1 and group chats, ordering,
//! offline inbox and sync, idempotent retries, membership checks.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use e2e_tests::{Client, System, eventually, number, text, unique};
use futures::future::join_all;
use serde_json::json;

/// A chat with someone who never signed in (a mistyped id, someone not on
/// the service yet) is refused, naming them, and nothing is created; once
/// they sign in the same request starts it. A group cannot add them either.
#[tokio::test]
async fn a_chat_with_someone_who_never_signed_in_is_refused_by_name_until_they_do() {
    let system = System::start().await;
    let [alice, bob, ghost] = ["alice", "bob", "ghost"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let _b = system.connect(&bob, "phone").await;
    let refused = a.request(json!({ "action": "createChat", "participants": [ghost] })).await;
    assert_eq!((refused["type"].as_str(), refused["code"].as_str()), (Some("error"), Some("unknown_user")), "{refused}");
    assert!(text(&refused, "message").contains(&ghost), "names who: {refused}");
    let group = a.request(json!({ "action": "createChat", "participants": [bob, ghost], "name": "Team" })).await;
    assert_eq!(group["code"], "unknown_user", "{group}");
    assert!(!text(&group, "message").contains(&bob), "only the unknown one is named: {group}");
    let list = system.http(&alice).get("/chats").await;
    assert_eq!(list.body["chats"], json!([]), "no chat was created: {}", list.body);

    let group = a.request(json!({ "action": "createChat", "participants": [bob], "name": "Team" })).await;
    let group = text(&group, "chatId").to_owned();
    let added = a.request(json!({ "action": "modifyChatParticipants", "chatId": group, "userId": ghost, "operation": "ADD" })).await;
    assert_eq!(added["code"], "unknown_user", "{added}");

    let _g = system.connect(&ghost, "laptop").await;
    let created = a.request(json!({ "action": "createChat", "participants": [ghost] })).await;
    assert_eq!(created["type"], "chatCreated", "once signed in, they can be written to: {created}");
}

#[tokio::test]
async fn two_users_chat_one_to_one_both_ways() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;

    let created = a.create_chat(&[&bob], None).await;
    assert_eq!(created["type"], "chatCreated", "{created}");
    assert_eq!(created["kind"], "direct");
    assert_eq!(created["created"], true);
    let chat = text(&created, "chatId").to_owned();

    // Bob "creating" the same 1-1 chat finds Alice's.
    let again = b.create_chat(&[&alice], None).await;
    assert_eq!(text(&again, "chatId"), chat);
    assert_eq!(again["created"], false);

    let sent = a.send_message(&chat, "c1", "hi bob").await;
    assert_eq!(sent["type"], "sendResult", "{sent}");
    assert_eq!(sent["status"], "SUCCESS");
    assert_eq!(number(&sent, "seq"), 1);

    let got = b.messages(1).await.remove(0);
    assert_eq!(got["message"], "hi bob");
    assert_eq!(got["senderId"], alice.as_str());
    assert_eq!(got["chatId"], chat.as_str());
    assert_eq!(got["messageId"], sent["messageId"]);
    assert!(number(&got, "sentAt") > 0);
    assert_eq!(b.ack(&[text(&got, "messageId")]).await["count"], 1);

    let reply = b.send_message(&chat, "c1", "hello alice").await;
    assert_eq!(number(&reply, "seq"), 2);
    let got = a.messages(1).await.remove(0);
    assert_eq!(got["message"], "hello alice");
    assert_eq!(got["senderId"], bob.as_str());
    assert_eq!(number(&got, "seq"), 2);
}

#[tokio::test]
async fn a_hundred_member_group_with_concurrent_senders_delivers_everything_in_order() {
    let system = System::start().await;
    let members: Vec<String> = (0..100).map(|i| unique(&format!("m{i}"))).collect();
    let mut clients: Vec<Client> = join_all(members.iter().map(|m| system.connect(m, "phone"))).await;

    let others: Vec<&str> = members[1..].iter().map(String::as_str).collect();
    let created = clients[0].create_chat(&others, Some("the hundred")).await;
    assert_eq!(created["kind"], "group", "{created}");
    assert_eq!(created["participants"].as_array().unwrap().len(), 100);
    let chat = text(&created, "chatId").to_owned();

    // Five members each send four messages, one after the other (waiting for
    // SUCCESS, as a client does), all five at the same time.
    const SENDERS: usize = 5;
    const PER_SENDER: usize = 4;
    let mut senders: Vec<Client> = clients.drain(0..SENDERS).collect();
    let sent: Vec<Vec<u64>> = join_all(senders.iter_mut().enumerate().map(|(s, client)| {
        let chat = chat.clone();
        async move {
            let mut seqs = Vec::new();
            for i in 0..PER_SENDER {
                let reply = client.send_message(&chat, &format!("s{s}-{i}"), &format!("sender {s} message {i}")).await;
                assert_eq!(reply["status"], "SUCCESS", "{reply}");
                seqs.push(number(&reply, "seq"));
            }
            seqs
        }
    }))
    .await;
    let total = SENDERS * PER_SENDER;
    let mut all_seqs: Vec<u64> = sent.iter().flatten().copied().collect();
    all_seqs.sort();
    assert_eq!(all_seqs, (1..=total as u64).collect::<Vec<_>>(), "seq numbers are gapless and unique");
    for seqs in &sent {
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "a sender's messages are ordered as sent: {seqs:?}");
    }

    // Every other member receives all of them; every sender receives the others'.
    let receivers = senders.iter_mut().enumerate().map(|(s, c)| (Some(s), c)).chain(clients.iter_mut().map(|c| (None, c)));
    let received: Vec<(Option<usize>, Vec<serde_json::Value>)> = join_all(receivers.map(|(sender, client)| async move {
        let expected = if sender.is_some() { total - PER_SENDER } else { total };
        (sender, client.messages(expected).await)
    }))
    .await;
    for (sender, messages) in received {
        let mut by_sender: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for m in &messages {
            by_sender.entry(text(m, "senderId").to_owned()).or_default().push(number(m, "seq"));
        }
        for (from, seqs) in &by_sender {
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{from}'s messages arrive in the order sent: {seqs:?}");
        }
        let mut seqs: Vec<u64> = messages.iter().map(|m| number(m, "seq")).collect();
        seqs.sort();
        let mut expected: Vec<u64> = (1..=total as u64).collect();
        if let Some(s) = sender {
            expected.retain(|seq| !sent[s].contains(seq));
        }
        assert_eq!(seqs, expected, "every message exactly once");
    }
}

#[tokio::test]
async fn a_chat_of_101_members_is_refused() {
    let system = System::start().await;
    let creator = unique("creator");
    let mut c = system.connect(&creator, "phone").await;
    let others: Vec<String> = (0..100).map(|i| unique(&format!("p{i}"))).collect();
    let others: Vec<&str> = others.iter().map(String::as_str).collect();
    let refused = c.create_chat(&others, Some("too big")).await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "too_many_members");
    let fits = c.create_chat(&others[..99], Some("just right")).await;
    assert_eq!(fits["type"], "chatCreated", "{fits}");
}

/// Each reply is a billed API Gateway message, and no one waits on an ack's
/// or a heartbeat's: sent without a `requestId`, they take effect and are not
/// answered, unless they fail.
#[tokio::test]
async fn acks_and_heartbeats_without_a_request_id_take_effect_unanswered() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    b.accept(&chat).await;
    a.send_message(&chat, "q1", "quiet please").await;
    let message = b.messages(1).await.remove(0);
    let heartbeats = || system.runtime.invocations().iter().filter(|i| i.function == "HeartbeatFunction" && i.error.is_none()).count();
    let heartbeats_before = heartbeats();

    b.send(json!({ "action": "ack", "messageId": text(&message, "messageId") })).await;
    b.send(json!({ "action": "heartbeat" })).await;
    // The ack took effect: the entry is gone and alice hears it was delivered.
    eventually("the acked entry leaves bob's inbox", || async {
        !system.inbox_of(&bob, "phone").await.contains(&text(&message, "messageId").to_owned())
    })
    .await;
    let receipt = a.frames_of("receipt", 1).await.remove(0);
    assert_eq!((receipt["status"].as_str(), receipt["userId"].as_str()), (Some("delivered"), Some(bob.as_str())));
    eventually("the quiet heartbeat ran", || async { heartbeats() > heartbeats_before }).await;

    // A failure is answered all the same, and a request with an id as before.
    b.send(json!({ "action": "ack" })).await;
    let failed = b.wait_for(|f| f["type"] == "error").await;
    assert_eq!(failed["code"], "invalid_request", "{failed}");
    assert_eq!(b.request(json!({ "action": "heartbeat" })).await["type"], "heartbeatAck");
    let answered: Vec<_> =
        b.drain(Duration::ZERO).await.into_iter().filter(|f| f["type"] == "acked" || f["type"] == "heartbeatAck").collect();
    assert!(answered.is_empty(), "no answer to the quiet ack or heartbeat: {answered:?}");
}

#[tokio::test]
async fn an_offline_user_gets_missed_messages_on_sync_and_not_again_after_ack() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    // Bob's phone registers once, then goes offline.
    system.connect(&bob, "phone").await.close().await;
    let chat = a.chat_with(&[&bob], None).await;
    for i in 1..=3 {
        assert_eq!(a.send_message(&chat, &format!("m{i}"), &format!("missed {i}")).await["status"], "SUCCESS");
    }

    let mut b = system.connect(&bob, "phone").await;
    let synced = b.sync().await;
    assert_eq!(synced["type"], "synced", "{synced}");
    assert_eq!(synced["delivered"], 4, "the chat's notice and three messages");
    let notice = b.frames_of("newChat", 1).await.remove(0);
    assert_eq!((notice["chatId"].as_str(), notice["createdBy"].as_str()), (Some(chat.as_str()), Some(alice.as_str())));
    let missed = b.messages(3).await;
    let texts: Vec<&str> = missed.iter().map(|m| text(m, "message")).collect();
    assert_eq!(texts, ["missed 1", "missed 2", "missed 3"]);
    let ids: Vec<&str> = missed.iter().map(|m| text(m, "messageId")).collect();
    assert_eq!(b.ack(&ids).await["count"], 3);
    let acked = b.request(json!({ "action": "ack", "eventIds": [text(&notice, "eventId")] })).await;
    assert_eq!(acked["count"], 1);
    b.close().await;

    let mut b = system.connect(&bob, "phone").await;
    let synced = b.sync().await;
    assert_eq!(synced["delivered"], 0, "acknowledged messages are not delivered again");
    let late: Vec<_> = b.drain(Duration::from_millis(300)).await.into_iter().filter(|f| f["type"] != "synced").collect();
    assert!(late.is_empty(), "nothing else arrives: {late:?}");
}

#[tokio::test]
async fn a_device_that_reconnects_during_a_burst_loses_nothing() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    system.connect(&bob, "phone").await.close().await;
    let chat = a.chat_with(&[&bob], None).await;

    const BURST: usize = 30;
    let sender = async {
        for i in 0..BURST {
            a.send_message(&chat, &format!("b{i}"), &format!("burst {i}")).await;
        }
    };
    let receiver = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut b = system.connect(&bob, "phone").await;
        b.sync().await;
        b
    };
    let ((), mut b) = tokio::join!(sender, receiver);
    // Whatever was not drained by sync arrived live (duplicates are allowed).
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < BURST && tokio::time::Instant::now() < deadline {
        for frame in b.drain(Duration::from_millis(200)).await {
            for m in e2e_tests::unpack(frame).into_iter().filter(|f| f["type"] == "newMessage") {
                *seen.entry(number(&m, "seq")).or_default() += 1;
            }
        }
    }
    let mut seqs: Vec<u64> = seen.keys().copied().collect();
    seqs.sort();
    assert_eq!(seqs, (1..=BURST as u64).collect::<Vec<_>>(), "no gap across the switch from sync to live");
}

#[tokio::test]
async fn retrying_a_send_with_the_same_client_message_id_stores_one_message() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;

    let first = a.send_message(&chat, "same-id", "once").await;
    let retry = a.send_message(&chat, "same-id", "once").await;
    assert_eq!(retry["status"], "SUCCESS");
    assert_eq!(retry["duplicate"], true);
    assert_eq!(retry["messageId"], first["messageId"]);
    assert_eq!(retry["seq"], first["seq"]);
    let next = a.send_message(&chat, "other-id", "twice").await;
    assert_eq!(number(&next, "seq"), number(&first, "seq") + 1, "the retry did not take a seq");

    // Bob may see the retried message twice (same messageId), never as two messages.
    let mut ids = std::collections::BTreeSet::new();
    loop {
        let m = b.messages(1).await.remove(0);
        ids.insert(text(&m, "messageId").to_owned());
        if m["message"] == "twice" {
            break;
        }
    }
    assert_eq!(ids.len(), 2, "two distinct messages: {ids:?}");
}

#[tokio::test]
async fn a_non_member_cannot_send_to_a_chat() {
    let system = System::start().await;
    let (alice, bob, mallory) = (unique("alice"), unique("bob"), unique("mallory"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let mut m = system.connect(&mallory, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    b.frames_of("newChat", 1).await;

    let refused = m.send_message(&chat, "x1", "let me in").await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "not_member");
    let unknown = m.send_message("g-doesnotexist", "x2", "hello?").await;
    assert_eq!(unknown["code"], "not_member", "a missing chat looks like one you are not in");

    assert!(b.drain(Duration::from_millis(300)).await.is_empty(), "members received nothing");
    assert_eq!(number(&a.send_message(&chat, "a1", "first").await, "seq"), 1, "nothing was stored");
}

#[tokio::test]
async fn bad_input_gets_typed_errors_and_changes_nothing() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    b.frames_of("newChat", 1).await;

    a.send_text("{not json".into()).await;
    let malformed = a.wait_for(|f| f["type"] == "error").await;
    assert_eq!(malformed["code"], "malformed_json");

    let unknown = a.request(json!({ "action": "fly" })).await;
    assert_eq!(unknown["code"], "unknown_action");

    let missing_field = a.request(json!({ "action": "sendMessage", "chatId": chat })).await;
    assert_eq!(missing_field["code"], "invalid_request");

    let too_long = a.send_message(&chat, "long", &"x".repeat(20 * 1024)).await;
    assert_eq!(too_long["code"], "message_too_long");

    let empty = a.send_message(&chat, "empty", "   ").await;
    assert_eq!(empty["code"], "invalid_request");

    let attachment = a
        .request(json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "att", "message": "see", "attachments": ["nope"] }))
        .await;
    assert_eq!(attachment["code"], "invalid_request");

    assert!(b.drain(Duration::from_millis(300)).await.is_empty());
    assert_eq!(number(&a.send_message(&chat, "ok", "still fine").await, "seq"), 1, "no bad frame stored anything");
}

#[tokio::test]
async fn a_frame_over_32_kb_closes_the_connection_with_1009() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    b.frames_of("newChat", 1).await;

    let big = json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "big", "message": "x".repeat(33 * 1024) });
    a.send(big).await;
    assert_eq!(a.closed().await, Some(1009));
    assert!(b.drain(Duration::from_millis(300)).await.is_empty(), "the oversized frame was not delivered");

    let mut a = system.connect(&alice, "phone").await;
    assert_eq!(number(&a.send_message(&chat, "small", "fits").await, "seq"), 1, "the oversized frame stored nothing");
}

/// A reply quotes a message of the same chat: the quote's sender and the
/// start of its text come with the reply, live and in history; one cannot
/// quote what one cannot see.
#[tokio::test]
async fn a_reply_carries_the_quoted_message_live_and_in_history() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let group = a.chat_with(&[&bob, &unique("dave")], Some("quotes")).await;
    b.accept(&group).await;
    let long = format!("{} tail", "x".repeat(120));
    let original = a.send_message(&group, "o1", &long).await;
    assert_eq!(original["status"], "SUCCESS", "{original}");
    let reply = b
        .request(
            json!({ "action": "sendMessage", "chatId": group, "clientMessageId": "r1", "message": "agreed", "replyTo": original["seq"] }),
        )
        .await;
    assert_eq!(reply["status"], "SUCCESS", "{reply}");
    let got = a.wait_for(|f| f["type"] == "newMessage" && f["message"] == "agreed").await;
    let quote = &got["replyTo"];
    assert_eq!(quote["seq"], original["seq"]);
    assert_eq!(quote["messageId"], original["messageId"]);
    assert_eq!(quote["senderId"], alice.as_str());
    assert_eq!(quote["snippet"], json!("x".repeat(100)), "the first 100 characters");
    let history = system.http(&alice).get(&format!("/chats/{group}/messages?limit=10")).await;
    let stored = history.body["messages"].as_array().unwrap().iter().find(|m| m["message"] == "agreed").cloned().unwrap();
    assert_eq!(&stored["replyTo"], quote, "history shows the same quote");

    // Nothing past the chat's end, and a member added later cannot quote what came before.
    let nowhere =
        b.request(json!({ "action": "sendMessage", "chatId": group, "clientMessageId": "r2", "message": "?", "replyTo": 99 })).await;
    assert_eq!(nowhere["code"], "invalid_request", "{nowhere}");
    system.sign_up(&[&carol]).await;
    let added = a.request(json!({ "action": "modifyChatParticipants", "chatId": group, "userId": carol, "operation": "ADD" })).await;
    assert_eq!(added["type"], "participantsModified", "{added}");
    let mut c = system.connect(&carol, "phone").await;
    c.accept(&group).await;
    let before_joining = c
        .request(json!({ "action": "sendMessage", "chatId": group, "clientMessageId": "r3", "message": "?", "replyTo": original["seq"] }))
        .await;
    assert_eq!(before_joining["code"], "invalid_request", "{before_joining}");
    let count = system.http(&alice).get(&format!("/chats/{group}/messages?limit=10")).await.body["messages"].as_array().unwrap().len();
    assert_eq!(count, 2, "the refused replies stored nothing");
}

/// Changes (edits, deletions, reactions) as the issue asks for them: live to
/// every member's devices, on `sync` to the offline ones, in order after the
/// message, and in history and the chat list.
#[tokio::test]
async fn an_edit_reaches_every_device_live_and_on_sync_and_history_shows_the_new_text() {
    let system = System::start().await;
    let [alice, bob, dave] = ["alice", "bob", "dave"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    system.connect(&bob, "laptop").await.close().await;
    let group = a.chat_with(&[&bob], Some("plans")).await;
    b.accept(&group).await;
    let sent = a.send_message(&group, "m1", "see you at 7").await;
    assert_eq!(sent["seq"], 1, "{sent}");
    b.messages(1).await;
    // Dave joins after the message: he may not read it, nor its new text.
    system.sign_up(&[&dave]).await;
    let added = a.request(json!({ "action": "modifyChatParticipants", "chatId": group, "userId": dave, "operation": "ADD" })).await;
    assert_eq!(added["type"], "participantsModified", "{added}");
    let mut d = system.connect(&dave, "phone").await;

    let edit = a.request(json!({ "action": "editMessage", "chatId": group, "seq": 1, "message": "see you at 8" })).await;
    assert_eq!((edit["type"].as_str(), edit["change"].as_str()), (Some("messageChanged"), Some("edited")), "{edit}");
    assert_eq!((number(&edit, "seq"), number(&edit, "targetSeq")), (2, 1), "the edit has its own seq after the message: {edit}");
    assert_eq!(edit["messageId"], sent["messageId"]);
    let live = b.frames_of("messageChanged", 1).await.remove(0);
    assert_eq!((live["message"].as_str(), live["userId"].as_str()), (Some("see you at 8"), Some(alice.as_str())), "{live}");
    let hidden = d.frames_of("messageChanged", 1).await.remove(0);
    assert_eq!(hidden["hidden"], true, "{hidden}");
    assert!(hidden.get("message").is_none(), "a member who joined later does not get the new text: {hidden}");

    // The laptop was offline: the message, then its edit, in seq order.
    let mut laptop = system.connect(&bob, "laptop").await;
    laptop.sync().await;
    let frames: Vec<serde_json::Value> = laptop.drain(Duration::from_millis(300)).await.into_iter().flat_map(e2e_tests::unpack).collect();
    let order: Vec<(String, u64)> = frames
        .iter()
        .filter(|f| f["type"] == "newMessage" || f["type"] == "messageChanged")
        .map(|f| (text(f, "type").to_owned(), number(f, "seq")))
        .collect();
    assert_eq!(order, [("newMessage".to_owned(), 1), ("messageChanged".to_owned(), 2)], "{frames:?}");

    // History and the chat list show the new text and that it was edited; the edit is no unread message.
    let page = system.http(&bob).get(&format!("/chats/{group}/messages")).await.body;
    let message = &page["messages"][0];
    assert_eq!((message["message"].as_str(), message["updatedSeq"].as_u64()), (Some("see you at 8"), Some(2)), "{page}");
    assert!(message["editedAt"].as_u64().is_some(), "{message}");
    assert_eq!(page["events"][0]["seq"], 2, "the edit is in history at its seq: {page}");
    let chats = system.http(&bob).get("/chats").await.body;
    let listed = chats["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == group.as_str()).cloned().unwrap();
    assert_eq!((listed["lastMessage"]["text"].as_str(), listed["lastMessage"]["edited"].as_bool()), (Some("see you at 8"), Some(true)));
    assert_eq!(listed["unreadCount"], 1, "one unread message, not two: {listed}");
    let daves = system.http(&dave).get(&format!("/chats/{group}/messages")).await.body;
    assert!(daves["messages"].as_array().unwrap().is_empty(), "{daves}");
    assert!(daves["events"][0].get("message").is_none() && daves["events"][0]["hidden"] == true, "{daves}");

    // Only the sender edits; an edit needs text; a change is not a message; a retry is the same edit.
    let by_bob = b.request(json!({ "action": "editMessage", "chatId": group, "seq": 1, "message": "no" })).await;
    assert_eq!(by_bob["code"], "forbidden", "{by_bob}");
    let empty = a.request(json!({ "action": "editMessage", "chatId": group, "seq": 1, "message": "  " })).await;
    assert_eq!(empty["code"], "invalid_request", "{empty}");
    let a_change = a.request(json!({ "action": "editMessage", "chatId": group, "seq": 2, "message": "x" })).await;
    assert_eq!(a_change["code"], "invalid_request", "{a_change}");
    // A retry after someone else's change (a reaction, seq 3) still answers the edit.
    let reaction = b.request(json!({ "action": "react", "chatId": group, "seq": 1, "emoji": "👍" })).await;
    assert_eq!(reaction["seq"], 3, "{reaction}");
    let again = a.request(json!({ "action": "editMessage", "chatId": group, "seq": 1, "message": "see you at 8" })).await;
    assert_eq!(
        (again["type"].as_str(), again["seq"].as_u64()),
        (Some("messageChanged"), Some(2)),
        "a retry answers the same edit: {again}"
    );

    // At most MAX_EDITS_PER_MESSAGE edits.
    for i in 1..domain::messaging::changes::MAX_EDITS_PER_MESSAGE {
        let edit = a.request(json!({ "action": "editMessage", "chatId": group, "seq": 1, "message": format!("at {i}") })).await;
        assert_eq!(edit["type"], "messageChanged", "{edit}");
    }
    let over = a.request(json!({ "action": "editMessage", "chatId": group, "seq": 1, "message": "one more" })).await;
    assert_eq!(over["code"], "invalid_request", "{over}");
    let page = system.http(&bob).get(&format!("/chats/{group}/messages")).await.body;
    assert_eq!(page["messages"][0]["message"], "at 9", "{page}");
}

/// Deleted for everyone is gone from every path: history (the edits' and
/// reactions' events, quotes), `sync` of a device that was offline through it
/// all (the same, and the reply's quote), and the chat list's preview.
#[tokio::test]
async fn a_message_deleted_for_everyone_leaves_its_text_nowhere() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    system.connect(&bob, "tablet").await.close().await;
    let group = a.chat_with(&[&bob, &carol], Some("plans")).await;
    b.accept(&group).await;
    assert_eq!(a.send_message(&group, "m1", "secret one").await["seq"], 1);
    let edit = a.request(json!({ "action": "editMessage", "chatId": group, "seq": 1, "message": "secret one v2" })).await;
    assert_eq!(edit["seq"], 2, "{edit}");
    let reaction = b.request(json!({ "action": "react", "chatId": group, "seq": 1, "emoji": "🤫" })).await;
    assert_eq!(reaction["seq"], 3, "{reaction}");
    let reply = a
        .request(json!({ "action": "sendMessage", "chatId": group, "clientMessageId": "m2", "message": "about that", "replyTo": 1 }))
        .await;
    assert_eq!(reply["seq"], 4, "{reply}");
    let deleted = a.request(json!({ "action": "deleteMessage", "chatId": group, "seq": 1, "forEveryone": true })).await;
    assert_eq!((deleted["seq"].as_u64(), deleted["change"].as_str()), (Some(5), Some("deleted")), "{deleted}");
    let gone = |what: &str, shown: &str| {
        assert!(!shown.contains("secret") && !shown.contains('🤫'), "{what} still shows the deleted message: {shown}");
    };

    for user in [&alice, &bob, &carol] {
        let page = system.http(user).get(&format!("/chats/{group}/messages")).await.body;
        gone(&format!("{user}'s history"), &page.to_string());
        let seqs: Vec<u64> = page["messages"].as_array().unwrap().iter().map(|m| number(m, "seq")).collect();
        let events: Vec<(u64, bool)> = page["events"].as_array().unwrap().iter().map(|e| (number(e, "seq"), e["hidden"] == true)).collect();
        assert_eq!(seqs, [1, 4], "the tombstone and the reply: {page}");
        assert_eq!(events, [(2, true), (3, true), (5, false)], "every seq kept, the changes' content not: {page}");
        assert_eq!(page["messages"][1]["replyTo"]["deleted"], true, "{page}");
        let chats = system.http(user).get("/chats").await.body;
        gone(&format!("{user}'s chat list"), &chats.to_string());
    }

    // Bob's tablet was offline through it all.
    let mut tablet = system.connect(&bob, "tablet").await;
    let synced = tablet.sync().await;
    assert_eq!(synced["type"], "synced", "{synced}");
    let frames: Vec<serde_json::Value> = tablet.drain(Duration::ZERO).await.into_iter().flat_map(e2e_tests::unpack).collect();
    let order: Vec<u64> = frames.iter().filter(|f| f["chatId"] == group.as_str() && f["seq"].is_u64()).map(|f| number(f, "seq")).collect();
    assert_eq!(order, [1, 2, 3, 4, 5], "every seq, in order: {frames:?}");
    gone("the tablet's sync", &serde_json::Value::Array(frames.clone()).to_string());
    let quoted = frames.iter().find(|f| f["seq"] == 4).unwrap();
    assert_eq!((quoted["message"].as_str(), quoted["replyTo"]["deleted"].as_bool()), (Some("about that"), Some(true)), "{quoted}");
}

#[tokio::test]
async fn reactions_are_one_per_user_counted_in_history_and_not_unread() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let mut c = system.connect(&carol, "phone").await;
    let group = a.chat_with(&[&bob, &carol], Some("votes")).await;
    b.accept(&group).await;
    c.accept(&group).await;
    a.send_message(&group, "m1", "pizza?").await;
    let react = |emoji: serde_json::Value| json!({ "action": "react", "chatId": group, "seq": 1, "emoji": emoji });
    for (by_bob, emoji) in [(true, json!("👍")), (false, json!("👍")), (true, json!("❤️")), (false, json!(null))] {
        let client = if by_bob { &mut b } else { &mut c };
        let reply = client.request(react(emoji)).await;
        assert_eq!((reply["type"].as_str(), reply["change"].as_str()), (Some("messageChanged"), Some("reacted")), "{reply}");
    }
    // The sender sees every change, in order.
    let seen: Vec<(String, serde_json::Value)> =
        a.frames_of("messageChanged", 4).await.iter().map(|f| (text(f, "userId").to_owned(), f["emoji"].clone())).collect();
    assert_eq!(
        seen,
        [(bob.clone(), json!("👍")), (carol.clone(), json!("👍")), (bob.clone(), json!("❤️")), (carol.clone(), json!(null))],
        "in order"
    );
    let page = system.http(&carol).get(&format!("/chats/{group}/messages")).await.body;
    assert_eq!(page["messages"][0]["reactions"], json!([{ "emoji": "❤️", "count": 1, "users": [bob] }]), "{page}");
    assert_eq!(page["events"].as_array().unwrap().len(), 4, "{page}");
    // Reactions are no messages: alice has read everything, carol has one unread message.
    let unread = |chats: serde_json::Value| {
        chats["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == group.as_str()).unwrap()["unreadCount"].clone()
    };
    assert_eq!(unread(system.http(&alice).get("/chats").await.body), 0);
    assert_eq!(unread(system.http(&carol).get("/chats").await.body), 1);
    // Reading up to a change's seq reads the message before it.
    let read = c.request(json!({ "action": "markRead", "chatId": group, "upToSeq": 3 })).await;
    assert_eq!(read["lastRead"], 3, "{read}");
    assert_eq!(unread(system.http(&carol).get("/chats").await.body), 0);

    // One emoji, not text; the same reaction again changes nothing.
    for not_one in ["yes", "👍👎", "\u{202e}👍"] {
        let refused = b.request(react(json!(not_one))).await;
        assert_eq!(refused["code"], "invalid_request", "{not_one:?}: {refused}");
    }
    let same = b.request(react(json!("❤️"))).await;
    assert_eq!((same["type"].as_str(), same["seq"].as_u64()), (Some("messageChanged"), Some(4)), "{same}");
    let none = c.request(react(json!(null))).await;
    assert_eq!(none["type"], "messageUnchanged", "{none}");
    let page = system.http(&carol).get(&format!("/chats/{group}/messages")).await.body;
    assert_eq!(page["events"].as_array().unwrap().len(), 4, "retries took no seq: {page}");
}

#[tokio::test]
async fn edits_and_deletions_for_everyone_close_after_their_windows() {
    let system = System::builder().parameters(&[("EditWindowSeconds", "1"), ("DeleteWindowSeconds", "2")]).start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    a.send_message(&chat, "m1", "typo").await;
    let edited = a.request(json!({ "action": "editMessage", "chatId": chat, "seq": 1, "message": "fixed" })).await;
    assert_eq!(edited["type"], "messageChanged", "within the window: {edited}");
    let sent_at = number(&system.http(&alice).get(&format!("/chats/{chat}/messages")).await.body["messages"][0], "sentAt");
    eventually("the edit window (1 s) passes", || async { domain::time::now_millis() > sent_at + 1_100 }).await;
    let late = a.request(json!({ "action": "editMessage", "chatId": chat, "seq": 1, "message": "again" })).await;
    assert_eq!(late["code"], "too_late", "{late}");
    eventually("the delete window (2 s) passes", || async { domain::time::now_millis() > sent_at + 2_100 }).await;
    let late = a.request(json!({ "action": "deleteMessage", "chatId": chat, "seq": 1, "forEveryone": true })).await;
    assert_eq!(late["code"], "too_late", "{late}");
    let page = system.http(&alice).get(&format!("/chats/{chat}/messages")).await.body;
    assert_eq!(page["messages"][0]["message"], "fixed", "the refused changes changed nothing: {page}");
    // Deleting for oneself has no window.
    let mine = a.request(json!({ "action": "deleteMessage", "chatId": chat, "seq": 1, "forEveryone": false })).await;
    assert_eq!(mine["type"], "messageHidden", "{mine}");
}
