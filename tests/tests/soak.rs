//! Reliability under injected faults (docs/reliability.md).
//!
//! The soak: devices of ten users send into 1-1 chats and two groups while
//! DynamoDB calls are throttled, fail with 500s, stall or are applied with
//! their answer lost (the function fails right after its transaction), and
//! `PostToConnection` answers 410 or 500 — among them every step of a send
//! between taking its seq and marking its inbox entries written. Senders
//! retry with the same `clientMessageId` until they are told the message is
//! stored; receivers ack what they get and now and then reconnect and
//! `sync`. Then faults stop, every device drains its inbox, and the test
//! checks: every acknowledged message reached every device it was meant for
//! (0 lost), each `clientMessageId` is one stored message (0 duplicates),
//! every seq a dead send left empty is filled, every inbox is empty, and
//! every recipient's `delivered` state is true.
//!
//! Two of the chats (one 1-1, one group) are end-to-end encrypted: their
//! devices share Megolm sessions over `claimKeys` and `sendToDevice` under
//! the same faults, send envelopes, and at the end every message of those
//! chats that reached a device decrypts there (0 undecryptable).
//!
//! `SOAK_SENDS` sets the number of sends (CI: 600; the figures in
//! docs/reliability.md: `SOAK_SENDS=10000`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use e2e_tests::e2ee::SecureDevice;
use e2e_tests::{Client, RATE_LIMITS_FOR_LOAD, System, number, text, unique, unpack};
use futures::future::join_all;
use local_runtime::faults::{Fault, FaultRule};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const SOAK_PATIENCE: Duration = Duration::from_secs(180);
/// For the delivered receipts of the last acks, which the stream delivers late
/// when the local stand-in is far behind after a long run.
const RECEIPTS_DEADLINE: Duration = Duration::from_secs(900);

fn soak_sends() -> usize {
    std::env::var("SOAK_SENDS").ok().and_then(|v| v.parse().ok()).unwrap_or(600)
}

fn rules() -> Vec<FaultRule> {
    let rule = |operation: &str, fault, probability| FaultRule { operation: operation.into(), fault, probability };
    vec![
        rule("DynamoDB.TransactWriteItems", Fault::LoseResponse, 0.02),
        // A send dies after each of its steps: the seq taken, the claim, the
        // message, the claim marked written.
        rule("DynamoDB.UpdateItem:ChatsTable", Fault::LoseResponse, 0.02),
        rule("DynamoDB.PutItem:ClientMessageIdsTable", Fault::LoseResponse, 0.02),
        rule("DynamoDB.PutItem:MessagesTable", Fault::LoseResponse, 0.02),
        rule("DynamoDB.UpdateItem:ClientMessageIdsTable", Fault::LoseResponse, 0.02),
        rule("DynamoDB.", Fault::Throttle, 0.03),
        rule("DynamoDB.", Fault::ServerError, 0.02),
        rule("DynamoDB.", Fault::Stall(Duration::from_millis(300)), 0.01),
        rule("ApiGatewayManagementApi.PostToConnection", Fault::Gone, 0.02),
        rule("ApiGatewayManagementApi.PostToConnection", Fault::ServerError, 0.03),
    ]
}

/// What one device saw and did.
#[derive(Default)]
struct Tally {
    /// messageId → how many times it arrived (live or by sync).
    received: HashMap<String, usize>,
    /// (chatId, clientMessageId) → (messageId, seq) as the server confirmed.
    accepted: BTreeMap<(String, String), (String, u64)>,
    retries: usize,
    reconnects: usize,
}

struct Device {
    user: String,
    device: String,
    chats: Vec<String>,
    /// Its connection, with the device's keys and sessions.
    secure: SecureDevice,
    /// Which of its chats are end-to-end encrypted.
    encrypted: BTreeSet<String>,
    /// The envelopes it received in encrypted chats, by messageId.
    envelopes: BTreeMap<String, String>,
    tally: Tally,
    last_heartbeat: Instant,
}

/// As real clients do: without heartbeats the presence sweep takes a
/// connection for dead after 150 s and closes it.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(45);

async fn heartbeat(client: &mut Client) {
    // A failed heartbeat (faults) is simply sent again next time.
    client.request(json!({ "action": "heartbeat" })).await;
}

impl Device {
    fn new(chats: Vec<String>, encrypted: &BTreeSet<String>, mut secure: SecureDevice) -> Self {
        // The local DynamoDB stand-in slows down under this load; the answers still come.
        secure.client.patience = SOAK_PATIENCE;
        let encrypted = chats.iter().filter(|c| encrypted.contains(*c)).cloned().collect();
        Self {
            user: secure.user.clone(),
            device: secure.device.clone(),
            chats,
            secure,
            encrypted,
            envelopes: BTreeMap::new(),
            tally: Tally::default(),
            last_heartbeat: Instant::now(),
        }
    }

    /// Takes in whatever has arrived, and acks it (messages and events).
    async fn absorb(&mut self) {
        if self.last_heartbeat.elapsed() > HEARTBEAT_EVERY {
            heartbeat(&mut self.secure.client).await;
            self.last_heartbeat = Instant::now();
        }
        let frames: Vec<Value> = self.secure.client.drain(Duration::ZERO).await.into_iter().flat_map(unpack).collect();
        let mut acks = Vec::new();
        for frame in frames {
            if frame["type"] == "newMessage" {
                *self.tally.received.entry(text(&frame, "messageId").to_owned()).or_default() += 1;
                acks.push(json!(text(&frame, "messageId")));
                if self.encrypted.contains(text(&frame, "chatId")) {
                    self.envelopes.insert(text(&frame, "messageId").to_owned(), text(&frame, "message").to_owned());
                }
            } else if let Some(event) = frame["eventId"].as_str() {
                if frame["type"] == "toDevice" {
                    self.secure.take_to_device(&frame);
                }
                acks.push(json!(event));
            }
        }
        for chunk in acks.chunks(100) {
            // Messages and events alike: the server finds each id in this device's inbox.
            let reply = self.secure.client.request(json!({ "action": "ack", "messageIds": chunk })).await;
            if reply["type"] == "error" {
                // An ack that failed under faults leaves the entries for the next sync.
                self.tally.retries += 1;
            }
        }
    }

    async fn reconnect(&mut self, system: &System) {
        let token = system.runtime.issue_token(&self.user, &self.device);
        let mut fresh = None;
        for _ in 0..50 {
            // Under faults, the authorizer or $connect may fail (500): try again.
            match Client::open(&system.url_with_token(&token)).await {
                Ok(client) => {
                    fresh = Some(client);
                    break;
                }
                Err(_) => {
                    self.tally.retries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        let mut fresh = fresh.expect("reconnects");
        fresh.patience = SOAK_PATIENCE;
        let old = std::mem::replace(&mut self.secure.client, fresh);
        self.last_heartbeat = Instant::now();
        old.close().await;
        self.tally.reconnects += 1;
        self.sync_once().await;
    }

    /// One `sync` (retried while faults make it fail); returns how many frames it delivered.
    async fn sync_once(&mut self) -> u64 {
        for _ in 0..50 {
            let reply = self.secure.client.request(json!({ "action": "sync", "limit": 1000 })).await;
            if reply["type"] == "synced" {
                self.absorb().await;
                return number(&reply, "delivered");
            }
            self.tally.retries += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{}/{} could not sync", self.user, self.device);
    }

    async fn send(&mut self, chat: &str, client_message_id: &str) {
        let encrypted = self.encrypted.contains(chat);
        for attempt in 0..100 {
            let words = format!("soak {client_message_id}");
            let reply = if encrypted {
                // (Shares the session first, and again on devices_changed.)
                self.secure.send(chat, client_message_id, &words).await
            } else {
                let frame = json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": client_message_id, "message": words });
                self.secure.client.request(frame).await
            };
            if reply["status"] == "SUCCESS" {
                let confirmed = (text(&reply, "messageId").to_owned(), number(&reply, "seq"));
                let key = (chat.to_owned(), client_message_id.to_owned());
                if let Some(earlier) = self.tally.accepted.insert(key, confirmed.clone()) {
                    assert_eq!(earlier, confirmed, "a retry named another message");
                }
                return;
            }
            assert!(matches!(reply["code"].as_str(), Some("internal" | "unavailable" | "contention")), "{reply}");
            self.tally.retries += 1;
            tokio::time::sleep(Duration::from_millis(20 * (attempt as u64 + 1).min(10))).await;
        }
        panic!("{client_message_id} was never accepted");
    }
}

/// A chat's stored messages (seq → messageId) from its whole history, read
/// as `member` page by page — once every seq up to the chat's counter holds
/// a message, a change or a filled hole, which history reads make so once
/// the empty ones are past the bound. Also: how many are holes.
async fn stored_and_filled(system: &System, member: &str, chat: &str) -> (BTreeMap<u64, String>, usize) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let http = system.http(member);
    let dynamo = system.dynamo().await;
    let (chats, messages_table) = (system.table("ChatsTable"), system.table("MessagesTable"));
    // The bound (10 s) and then some, on a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut messages = BTreeMap::new();
        let mut after = 0;
        loop {
            let page = http.get(&format!("/chats/{chat}/messages?after={after}&limit=100")).await;
            assert_eq!(page.status, 200, "{}", page.body);
            for m in page.body["messages"].as_array().unwrap() {
                assert!(messages.insert(number(m, "seq"), text(m, "messageId").to_owned()).is_none(), "seq twice: {m}");
                after = after.max(number(m, "seq"));
            }
            for e in page.body["events"].as_array().unwrap() {
                after = after.max(number(e, "seq"));
            }
            if page.body["hasMore"] != true {
                break;
            }
        }
        let counter = dynamo
            .get_item()
            .table_name(&chats)
            .key("chatId", AttributeValue::S(format!("{chat}#seq")))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        let last: u64 = counter.item.and_then(|i| i.get("seq")?.as_n().ok()?.parse().ok()).unwrap_or(0);
        let items = dynamo
            .query()
            .table_name(&messages_table)
            .key_condition_expression("chatId = :c")
            .expression_attribute_values(":c", AttributeValue::S(chat.to_owned()))
            .projection_expression("seq, kind")
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default();
        let filled = items.iter().filter(|i| i.get("kind").and_then(|k| k.as_s().ok()).is_some_and(|k| k == "hole")).count();
        if items.len() as u64 == last {
            return (messages, filled);
        }
        assert!(Instant::now() < deadline, "{chat}: {} of its {last} seqs written or filled", items.len());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn no_acknowledged_message_is_lost_or_duplicated_under_injected_faults() {
    let started = Instant::now();
    let (system, faults) = System::builder().parameters(&[RATE_LIMITS_FOR_LOAD]).start_with_faults().await;
    let users: Vec<String> = (0..10).map(|i| unique(&format!("soak{i}"))).collect();
    let devices_of = |i: usize| if i < 6 { vec!["phone", "laptop"] } else { vec!["phone"] };
    // Chats: five 1-1 pairs and one across, and two overlapping groups of six.
    // Every device first, each with its keys (so encrypted chats list them).
    let mut secure = Vec::new();
    for (i, user) in users.iter().enumerate() {
        for device in devices_of(i) {
            secure.push((i, SecureDevice::connect(&system, user, device).await));
        }
    }
    // (The "setup" device of user 0 takes part too: it is registered and receives.)
    secure.push((0, SecureDevice::connect(&system, &users[0], "setup").await));
    // Chats: five 1-1 pairs and one across, and two overlapping groups of
    // six; the one across and the second group end-to-end encrypted.
    let mut chats: Vec<(String, Vec<usize>)> = Vec::new();
    let mut encrypted = BTreeSet::new();
    for (pair, secret) in [((0, 1), false), ((2, 3), false), ((4, 5), false), ((6, 7), false), ((8, 9), false), ((0, 9), true)] {
        let a = &mut secure.iter_mut().find(|(i, d)| *i == pair.0 && d.device == "phone").unwrap().1.client;
        a.sign_up(&[&users[pair.1]]).await;
        let created = a.request(json!({ "action": "createChat", "participants": [users[pair.1]], "encrypted": secret })).await;
        let chat = text(&created, "chatId").to_owned();
        if secret {
            encrypted.insert(chat.clone());
        }
        chats.push((chat, vec![pair.0, pair.1]));
    }
    for (name, members, secret) in [("g1", (0..6).collect::<Vec<_>>(), false), ("g2", (4..10).collect(), true)] {
        let admin = &mut secure.iter_mut().find(|(i, d)| *i == members[0] && d.device == "phone").unwrap().1.client;
        let others: Vec<&str> = members[1..].iter().map(|m| users[*m].as_str()).collect();
        admin.sign_up(&others).await;
        let created = admin.request(json!({ "action": "createChat", "participants": others, "name": name, "encrypted": secret })).await;
        let chat = text(&created, "chatId").to_owned();
        if secret {
            encrypted.insert(chat.clone());
        }
        chats.push((chat, members.clone()));
    }
    let mut devices = Vec::new();
    for (i, device) in secure {
        let mine = chats.iter().filter(|(_, m)| m.contains(&i)).map(|(c, _)| c.clone()).collect();
        devices.push(Device::new(mine, &encrypted, device));
    }
    for device in &mut devices {
        device.sync_once().await;
    }

    faults.set_rules(rules());
    let total = soak_sends();
    let per_device = total.div_ceil(devices.len());
    let system_ref = &system;
    join_all(devices.iter_mut().enumerate().map(|(n, device)| async move {
        let mut rng = StdRng::seed_from_u64(n as u64);
        for i in 0..per_device {
            // Mostly 1-1 chats, a group now and then (as people chat).
            let (groups, directs): (Vec<&String>, Vec<&String>) = device.chats.iter().partition(|c| c.starts_with("g-"));
            let from = if directs.is_empty() || (!groups.is_empty() && rng.random_bool(0.2)) { groups } else { directs };
            let chat = from[rng.random_range(0..from.len())].clone();
            device.send(&chat, &format!("{}-{}-{i}", device.device, n)).await;
            if n == 0 && i % 25 == 0 {
                eprintln!("soak: device 0 sent {i} of {per_device} after {:.0} s", started.elapsed().as_secs_f64());
            }
            device.absorb().await;
            if rng.random_bool(0.02) {
                device.reconnect(system_ref).await;
            }
        }
    }))
    .await;
    let injected = faults.injected();
    faults.set_rules(Vec::new());
    let sending_took = started.elapsed();

    // Every device reconnects and drains its inbox.
    for device in &mut devices {
        device.reconnect(&system).await;
        while device.sync_once().await > 0 {}
    }

    // 0 lost: every accepted message reached every device of every member but the sending one.
    let members: HashMap<&str, &Vec<usize>> = chats.iter().map(|(c, m)| (c.as_str(), m)).collect();
    let mut expected: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
    let mut accepted = 0;
    let mut per_chat: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for sender in &devices {
        for ((chat, _), (message_id, seq)) in &sender.tally.accepted {
            accepted += 1;
            per_chat.entry(chat.clone()).or_default().insert(*seq);
            for member in members[chat.as_str()].iter() {
                for receiver in devices.iter().filter(|d| d.user == users[*member]) {
                    if (receiver.user.as_str(), receiver.device.as_str()) != (sender.user.as_str(), sender.device.as_str()) {
                        expected.entry((receiver.user.clone(), receiver.device.clone())).or_default().insert(message_id.clone());
                    }
                }
            }
        }
    }
    let mut lost = 0;
    let mut delivered_copies = 0;
    let mut deliveries = 0;
    for device in &devices {
        let want = expected.get(&(device.user.clone(), device.device.clone())).cloned().unwrap_or_default();
        lost += want.iter().filter(|id| !device.tally.received.contains_key(*id)).count();
        deliveries += want.len();
        delivered_copies += device.tally.received.values().sum::<usize>();
    }
    // 0 duplicates: each clientMessageId is one stored message, at the seq
    // it was confirmed at; every other seq (a send that died after taking
    // it) is filled as a hole once the bound has passed — history reads
    // fill them.
    let mut stored = 0;
    let mut holes = 0;
    for (chat, seqs) in &per_chat {
        let member = &users[members[chat.as_str()][0]];
        let (messages, filled) = stored_and_filled(&system, member, chat).await;
        let confirmed: BTreeMap<u64, String> = devices
            .iter()
            .flat_map(|d| d.tally.accepted.iter())
            .filter(|((c, _), _)| c == chat)
            .map(|(_, (id, seq))| (*seq, id.clone()))
            .collect();
        assert_eq!(messages, confirmed, "chat {chat}: the stored messages are the confirmed ones, each once");
        assert_eq!(seqs.len(), messages.len());
        stored += messages.len() as u64;
        holes += filled;
    }
    // Every receipt true: each sender's last message in each chat is delivered to every recipient.
    let mut last_by_sender: BTreeMap<(String, String), u64> = BTreeMap::new();
    for device in &devices {
        for ((chat, _), (_, seq)) in &device.tally.accepted {
            let entry = last_by_sender.entry((device.user.clone(), chat.clone())).or_default();
            *entry = (*entry).max(*seq);
        }
    }
    // Receipts come from the inbox stream, which may still be catching up on
    // the drain's acks: one generous deadline for all of them.
    let mut asker = HashMap::new();
    let mut pending: Vec<((String, String), u64)> = last_by_sender.iter().map(|(k, v)| (k.clone(), *v)).collect();
    let deadline = Instant::now() + RECEIPTS_DEADLINE;
    let mut last_beat = Instant::now();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for ((user, chat), seq) in pending {
            if !asker.contains_key(&user) {
                asker.insert(user.clone(), system.connect(&user, "phone").await);
            }
            let client = asker.get_mut(&user).unwrap();
            let status = client.request(json!({ "action": "messageStatus", "chatId": chat, "seq": seq })).await;
            if !status["recipients"].as_array().is_some_and(|r| r.iter().all(|x| x["delivered"] == true)) {
                assert!(Instant::now() < deadline, "{user}'s message {seq} in {chat} is not delivered to everyone: {status}");
                still.push(((user, chat), seq));
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if last_beat.elapsed() > HEARTBEAT_EVERY {
                for client in asker.values_mut() {
                    heartbeat(client).await;
                }
                last_beat = Instant::now();
            }
        }
    }
    let receipts_settled = started.elapsed();
    // Every inbox drained (again: the receipts of the last acks arrived after the first drain).
    for device in &mut devices {
        device.reconnect(&system).await;
        while device.sync_once().await > 0 {}
    }
    let mut left = 0;
    for device in &devices {
        left += system.inbox_of(&device.user, &device.device).await.len();
    }
    // Every message of an encrypted chat that reached a device decrypts there.
    let (mut sealed, mut undecryptable) = (0, Vec::new());
    for device in &mut devices {
        let envelopes = std::mem::take(&mut device.envelopes);
        for (message_id, envelope) in envelopes {
            sealed += 1;
            if device.secure.open(&envelope).is_none() {
                undecryptable.push(format!("{}/{}: {message_id}", device.user, device.device));
            }
        }
    }
    let retries: usize = devices.iter().map(|d| d.tally.retries).sum();
    let reconnects: usize = devices.iter().map(|d| d.tally.reconnects).sum();
    let faults_total: u64 = injected.values().sum();
    println!("soak: {accepted} messages sent and acknowledged over {} chats by {} devices", chats.len(), devices.len());
    println!(
        "soak: {deliveries} deliveries expected, {lost} lost, {} extra copies before de-duplication, {stored} stored",
        delivered_copies - (deliveries - lost)
    );
    println!(
        "soak: {faults_total} faults injected, {retries} client retries, {reconnects} reconnects; sending took {:.1} s, all {:.1} s",
        sending_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    for (fault, count) in &injected {
        println!("soak fault {fault}: {count}");
    }
    println!("soak: {holes} seqs left empty by sends that died after taking them, every one filled");
    println!(
        "soak: inbox entries left {left}; receipts checked {} (all true at {:.1} s)",
        last_by_sender.len(),
        receipts_settled.as_secs_f64()
    );
    println!("soak: {sealed} encrypted messages received over {} encrypted chats, {} undecryptable", encrypted.len(), undecryptable.len());
    assert!(sealed > 0, "encrypted chats took part");
    assert!(undecryptable.is_empty(), "undecryptable: {undecryptable:?}");
    assert_eq!(lost, 0, "acknowledged messages lost");
    assert_eq!(stored as usize, accepted, "one stored message per accepted clientMessageId");
    assert_eq!(left, 0, "every inbox drained");
    assert!(faults_total > 0, "faults were injected");
    assert_eq!(system.runtime.iam_denials(), vec![], "no path under faults calls outside its function's policy");
}

/// A send whose function dies after any one of its steps (the step applied,
/// its answer lost): the client is told it failed, retries with the same
/// `clientMessageId`, and the retry finishes it — one stored message,
/// delivered, counted once. Dying right after taking the seq leaves that seq
/// empty: the retry takes another, and the empty one is filled as a hole that
/// history, the chat list's unread count and preview treat as nothing.
#[tokio::test]
async fn a_send_that_dies_after_any_step_is_stored_once_by_its_retry() {
    let (system, faults) = System::builder().parameters(&[RATE_LIMITS_FOR_LOAD]).start_with_faults().await;
    // (step, the seq the retry answers with, whether the retry found it claimed)
    let steps = [
        ("DynamoDB.UpdateItem:ChatsTable", 2, false),
        ("DynamoDB.PutItem:ClientMessageIdsTable", 1, true),
        ("DynamoDB.PutItem:MessagesTable", 1, true),
        ("DynamoDB.BatchWriteItem", 1, true),
        ("DynamoDB.UpdateItem:ClientMessageIdsTable", 1, true),
    ];
    for (step, seq, duplicate) in steps {
        let (alice, bob) = (unique("alice"), unique("bob"));
        let mut a = system.connect(&alice, "phone").await;
        let mut b = system.connect(&bob, "phone").await;
        let chat = a.chat_with(&[&bob], None).await;
        b.accept(&chat).await;
        faults.set_rules(vec![FaultRule { operation: step.into(), fault: Fault::LoseResponse, probability: 1.0 }]);
        let failed = a.send_message(&chat, "crash-1", "survives").await;
        faults.set_rules(Vec::new());
        // The lost answer is a dropped connection to the SDK: transient, so retryable.
        assert_eq!(failed["code"], "unavailable", "{step}: {failed}");
        let retried = a.send_message(&chat, "crash-1", "survives").await;
        assert_eq!(
            (retried["status"].as_str(), retried["seq"].as_u64(), retried["duplicate"].as_bool()),
            (Some("SUCCESS"), Some(seq), Some(duplicate)),
            "{step}: {retried}"
        );
        // Bob gets it (once after de-duplication: a retry may post it again) and acks it.
        let got = b.messages(1).await.remove(0);
        assert_eq!((got["messageId"].clone(), got["seq"].clone()), (retried["messageId"].clone(), retried["seq"].clone()), "{step}");
        b.ack(&[text(&got, "messageId")]).await;
        let next = a.send_message(&chat, "next", "after").await;
        assert_eq!(number(&next, "seq"), seq + 1, "{step}: one message was stored, not two");
        let http = system.http(&bob);
        // Once a seq left empty is past the bound, a history read fills it;
        // then the chat list counts two unread messages, not three.
        let mut last: (Value, Value);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let page = http.get(&format!("/chats/{chat}/messages")).await.body;
            let texts: Vec<(u64, &str)> =
                page["messages"].as_array().unwrap().iter().map(|m| (number(m, "seq"), text(m, "message"))).collect();
            assert_eq!(texts, vec![(seq, "survives"), (seq + 1, "after")], "{step}: history holds each once, a hole nothing");
            let list = http.get("/chats").await.body;
            let mine = list["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == chat.as_str()).cloned().unwrap();
            last = (mine["unreadCount"].clone(), mine["lastMessage"]["text"].clone());
            if last == (json!(2), json!("after")) {
                break;
            }
            assert!(Instant::now() < deadline, "{step}: the chat list says {last:?}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let injected = faults.injected();
    for (step, _, _) in steps {
        assert!(injected.keys().any(|k| k.contains("answer lost") && k.ends_with(step)), "{step} failed once: {injected:?}");
    }
}
