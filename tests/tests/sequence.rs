//! A chat's sequence under concurrent senders: each seq is taken by one
//! atomic update of the chat's counter, so senders never refuse each other,
//! each sender's messages keep their order, one `clientMessageId` is one
//! message however many copies race, and members who come and go get
//! exactly the seqs their membership covers.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use e2e_tests::{Client, RATE_LIMITS_FOR_LOAD, System, modify_participants, number, text, unique, unpack};
use futures::future::join_all;
use serde_json::{Value, json};

/// Seqs of the messages among `frames` (live frames and sync batches).
fn message_seqs(frames: &[Value]) -> BTreeSet<u64> {
    frames.iter().flat_map(|f| unpack(f.clone())).filter(|f| f["type"] == "newMessage").map(|m| number(&m, "seq")).collect()
}

/// What a device holds once its live frames and its inbox are drained.
async fn everything(client: &mut Client) -> BTreeSet<u64> {
    let mut frames = client.drain(Duration::from_millis(300)).await;
    client.request(json!({ "action": "sync" })).await;
    frames.extend(client.drain(Duration::from_millis(300)).await);
    message_seqs(&frames)
}

#[tokio::test]
async fn three_devices_racing_one_client_message_id_store_one_message() {
    let system = System::builder().parameters(&[RATE_LIMITS_FOR_LOAD]).start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut devices: Vec<Client> = join_all(["phone", "laptop", "tablet"].map(|d| system.connect(&alice, d))).await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = devices[0].chat_with(&[&bob], None).await;
    b.accept(&chat).await;
    for round in 0..5 {
        let id = format!("same-{round}");
        let answers = join_all(devices.iter_mut().map(|d| d.send_message(&chat, &id, "one message, three copies"))).await;
        let confirmed: BTreeSet<(String, u64)> = answers
            .iter()
            .map(|a| {
                assert_eq!(a["status"], "SUCCESS", "{a}");
                (text(a, "messageId").to_owned(), number(a, "seq"))
            })
            .collect();
        assert_eq!(confirmed.len(), 1, "round {round}: every copy names the same message: {answers:?}");
        assert_eq!(answers.iter().filter(|a| a["duplicate"] == false).count(), 1, "round {round}: one copy stored it: {answers:?}");
    }
    let page = system.http(&bob).get(&format!("/chats/{chat}/messages")).await.body;
    let ids: Vec<&str> = page["messages"].as_array().unwrap().iter().map(|m| text(m, "clientMessageId")).collect();
    assert_eq!(ids, ["same-0", "same-1", "same-2", "same-3", "same-4"], "each once, in order: {page}");
    let list = system.http(&bob).get("/chats").await.body;
    assert_eq!(list["chats"][0]["unreadCount"], 5, "a copy that lost the race is not an unread message: {list}");
}

/// Twenty members of a group send at once, each its next message only after
/// the previous one's reply, while an admin removes one member and adds
/// another mid-burst. Nobody is refused; each sender's messages get
/// increasing seqs; the removed member gets exactly the seqs up to the
/// removal, the added one exactly those after the addition, everyone else all.
#[tokio::test]
async fn twenty_concurrent_senders_are_all_accepted_in_order_while_members_come_and_go() {
    const SENDERS: usize = 20;
    const EACH: usize = 6;
    let system = System::builder().parameters(&[RATE_LIMITS_FOR_LOAD]).start().await;
    let names: Vec<String> = (0..SENDERS).map(|i| unique(&format!("s{i}"))).collect();
    let [admin, leaving, joining] = ["admin", "leaving", "joining"].map(unique);
    let mut senders: Vec<Client> = join_all(names.iter().map(|n| system.connect(n, "phone"))).await;
    let mut admin_c = system.connect(&admin, "phone").await;
    let mut leaving_c = system.connect(&leaving, "phone").await;
    let mut joining_c = system.connect(&joining, "phone").await;
    let mut everyone: Vec<&str> = names.iter().map(String::as_str).collect();
    everyone.push(&leaving);
    let chat = admin_c.chat_with(&everyone, Some("burst")).await;
    for client in senders.iter_mut().chain([&mut leaving_c]) {
        client.accept(&chat).await;
    }

    let burst = join_all(senders.iter_mut().enumerate().map(|(s, client)| {
        let chat = chat.clone();
        async move {
            let mut seqs = Vec::new();
            for i in 0..EACH {
                let reply = client.send_message(&chat, &format!("s{s}-{i}"), &format!("{s}/{i}")).await;
                assert_eq!(reply["status"], "SUCCESS", "sender {s}, message {i}: {reply}");
                seqs.push(number(&reply, "seq"));
            }
            seqs
        }
    }));
    let membership = async {
        // Once the burst is under way (the chat has taken some seqs).
        tokio::time::sleep(Duration::from_millis(200)).await;
        let removed = modify_participants(&mut admin_c, &chat, &leaving, "REMOVE").await;
        let added = modify_participants(&mut admin_c, &chat, &joining, "ADD").await;
        (removed, added)
    };
    let (per_sender, (removed, added)) = tokio::join!(burst, membership);
    for (s, seqs) in per_sender.iter().enumerate() {
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "sender {s}'s messages keep their order: {seqs:?}");
    }
    let all: BTreeSet<u64> = per_sender.iter().flatten().copied().collect();
    let total = (SENDERS * EACH) as u64;
    assert_eq!(all, (1..=total).collect(), "every send stored once, at its own seq, no gaps without faults");
    assert_eq!((removed["type"].as_str(), added["type"].as_str()), (Some("participantsModified"), Some("participantsModified")));
    let (removed_at, added_at) = (number(&removed, "seq"), number(&added, "seq"));
    assert!(removed_at <= added_at, "{removed} {added}");

    let leaving_got = everything(&mut leaving_c).await;
    assert_eq!(leaving_got, (1..=removed_at).collect(), "the removed member gets the seqs up to the removal, none after");
    joining_c.accept(&chat).await;
    let joining_got = everything(&mut joining_c).await;
    assert_eq!(joining_got, (added_at + 1..=total).collect(), "the added member gets the seqs after the addition, none before");
    let admin_got = everything(&mut admin_c).await;
    assert_eq!(admin_got, (1..=total).collect(), "a member all along gets everything");

    // History agrees with delivery, for the member who came late.
    let page = system.http(&joining).get(&format!("/chats/{chat}/messages?limit=100")).await.body;
    let seen: BTreeMap<u64, &str> =
        page["messages"].as_array().unwrap().iter().map(|m| (number(m, "seq"), text(m, "clientMessageId"))).collect();
    assert!(seen.keys().all(|seq| *seq > added_at), "history shows the late member nothing from before: {seen:?}");
}
