//! The benchmark: each scenario a client of a messenger produces, run over
//! real WebSockets and HTTP against the local system, with what AWS would
//! bill for it. Per scenario: end-to-end latency percentiles; the handlers'
//! time waiting on AWS (here the local stand-ins) against their own work; AWS
//! calls; DynamoDB read and write units as DynamoDB reports them; API Gateway
//! frames in and out and billed messages (32 KB units); connection minutes;
//! Lambda invocations and GB-seconds (configured memory × billed duration);
//! HTTP API requests; pushes; and from those, dollars per million at the
//! prices in `e2e_tests::prices`.
//!
//!   scripts/bench [ROUNDS] [--out FILE] [--ceiling-only | --isolation-only | --encrypted-only] [--no-isolation | --isolation-factor 10|1] [--isolation-online N] [--in-process]
//!   (release build; JSON to FILE, default target/bench.json)
//!
//! Every function runs as its own process (its release binary behind the
//! local Lambda Runtime API, as Lambda runs its `bootstrap`), so handler
//! times include (de)serialising events and the Runtime API's round trip, and
//! each function's cold starts, warm handler times and peak memory are
//! reported; `--in-process` runs the handlers inside the local runtime instead.
//!
//! Every device acknowledges what it receives (messages and receipts alike),
//! as the clients do; a scenario's usage is metered from before its first
//! frame until every asynchronous consequence (stream consumers, receipts and
//! their acks) has settled.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use e2e_tests::{ARRIVED_AT, Client, RATE_LIMITS_FOR_LOAD, System, e2ee, number, prices, text, unique, unpack};
use futures::future::join_all;
use local_runtime::Invocation;
use local_runtime::gateway::UsageReading;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use vodozemac::megolm::{self, GroupSession};
use vodozemac::olm::Account;

// ---- devices that acknowledge everything, as clients do

/// A frame for the device to send, and where its reply goes (`None`: sent
/// without a `requestId`, nothing waits).
type Request = (Value, Option<oneshot::Sender<Value>>);

/// What every benchmark message says (encrypted: this, in an envelope).
const PLAIN_TEXT: &str = "benchmark message";

/// Not a frame: tells a device's task to close its socket.
const CLOSE: Value = Value::Null;

/// A connected device run by its own task: it answers requests given to it
/// and acknowledges every message and inbox event it receives (in one `ack`
/// per burst), reporting each `newMessage` as it arrives.
struct Device {
    requests: mpsc::UnboundedSender<Request>,
    task: tokio::task::JoinHandle<()>,
}

/// A `newMessage` some device received: (its label, the frame).
type Arrivals = mpsc::UnboundedSender<(String, Value)>;

impl Device {
    async fn connect(system: &System, user: &str, device: &str, arrivals: Arrivals) -> Self {
        let client = system.connect_retrying(user, device).await;
        Self::run(client, format!("{user}/{device}"), arrivals)
    }

    fn run(mut client: Client, label: String, arrivals: Arrivals) -> Self {
        let (requests, mut incoming) = mpsc::unbounded_channel::<Request>();
        let task = tokio::spawn(async move {
            loop {
                let first = tokio::select! {
                    request = incoming.recv() => {
                        let Some((frame, reply)) = request else { return };
                        if frame == CLOSE {
                            client.close().await;
                            return;
                        }
                        match reply {
                            Some(reply) => {
                                let _ = reply.send(client.request(frame).await);
                            }
                            None => client.send(frame).await,
                        }
                        continue;
                    }
                    frame = client.next_frame(Duration::from_secs(3600)) => frame,
                };
                let Some(first) = first else {
                    if client.is_closed() {
                        return;
                    }
                    continue;
                };
                // This frame and any that come within 20 ms, acknowledged in
                // one go (as a client library does: a group's receipts come
                // in bursts).
                let mut batch = vec![first];
                batch.extend(client.drain(Duration::from_millis(20)).await);
                let received = batch.into_iter().flat_map(|batch| {
                    // A sync batch's frames arrived when the batch did.
                    let arrived = batch[ARRIVED_AT].clone();
                    unpack(batch).into_iter().map(move |mut frame| {
                        frame[ARRIVED_AT] = arrived.clone();
                        frame
                    })
                });
                let (mut messages, mut events) = (Vec::new(), Vec::new());
                for frame in received {
                    match frame["type"].as_str() {
                        Some("newMessage") => {
                            messages.push(text(&frame, "messageId").to_owned());
                            let _ = arrivals.send((label.clone(), frame));
                        }
                        _ if frame["eventId"].is_string() => events.push(text(&frame, "eventId").to_owned()),
                        _ => {}
                    }
                }
                // Without a requestId: nothing waits on an ack's answer, so none comes.
                for chunk in messages.chunks(100) {
                    client.send(json!({"action": "ack", "messageIds": chunk})).await;
                }
                for chunk in events.chunks(100) {
                    client.send(json!({"action": "ack", "eventIds": chunk})).await;
                }
            }
        });
        Self { requests, task }
    }

    async fn request(&self, frame: Value) -> Value {
        let (reply, answer) = oneshot::channel();
        self.requests.send((frame, Some(reply))).expect("device task runs");
        answer.await.expect("device task answers")
    }

    /// Sends a frame that asks for no answer.
    fn tell(&self, frame: Value) {
        self.requests.send((frame, None)).expect("device task runs");
    }

    /// Sends until the server stores it, as the client library does: an
    /// `unavailable` (a request that ran out of time on the loaded machine)
    /// is sent again with the same ids, up to the library's 20 attempts.
    async fn send(&self, chat: &str, client_message_id: &str) -> Value {
        self.send_text(chat, client_message_id, PLAIN_TEXT, None).await
    }

    /// Sends `message` (an envelope with the device list's `digest` in an encrypted chat).
    async fn send_text(&self, chat: &str, client_message_id: &str, message: &str, digest: Option<&str>) -> Value {
        let mut frame = json!({"action": "sendMessage", "chatId": chat, "clientMessageId": client_message_id, "message": message});
        if let Some(digest) = digest {
            frame["devices"] = json!(digest);
        }
        for _ in 1..20 {
            let reply = self.request(frame.clone()).await;
            if reply["code"] != "unavailable" {
                assert_eq!(reply["status"], "SUCCESS", "{reply}");
                return reply;
            }
            eprintln!("{client_message_id}: unavailable, sending it again");
        }
        let reply = self.request(frame).await;
        assert_eq!(reply["status"], "SUCCESS", "{reply}");
        reply
    }

    /// Closes the socket and waits for the server's close (the device's task ends with it).
    async fn close(self) {
        self.tell(CLOSE);
        let _ = self.task.await;
    }
}

/// Waits until `count` arrivals of `client_message_id` came; returns the latest arrival time (µs).
async fn arrivals_of(arrivals: &mut mpsc::UnboundedReceiver<(String, Value)>, client_message_id: &str, count: usize) -> u64 {
    let mut seen = 0;
    let mut last = 0;
    while seen < count {
        let (_, frame) = tokio::time::timeout(Duration::from_secs(60), arrivals.recv())
            .await
            .unwrap_or_else(|_| panic!("{client_message_id}: {seen} of {count} arrivals"))
            .expect("arrivals channel open");
        if frame["clientMessageId"] == client_message_id {
            seen += 1;
            last = last.max(number(&frame, ARRIVED_AT));
        }
    }
    last
}

// ---- metering

#[derive(Clone, Copy)]
struct Mark {
    invocations: usize,
    gateway: UsageReading,
    at: Instant,
}

fn mark(system: &System) -> Mark {
    Mark { invocations: system.runtime.invocations().len(), gateway: system.runtime.gateway_usage(), at: Instant::now() }
}

/// Waits until nothing more happens: no invocation ends and no frame moves
/// for two seconds (stream consumers — polled, and a push waits for its
/// batch —, receipts and their acks have settled).
async fn settle(system: &System) {
    let reading = || {
        let usage = system.runtime.gateway_usage();
        (system.runtime.invocations().len(), usage.frames_in, usage.frames_out)
    };
    let mut last = reading();
    let mut quiet = Duration::ZERO;
    while quiet < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = reading();
        quiet = if now == last { quiet + Duration::from_millis(250) } else { Duration::ZERO };
        last = now;
    }
}

/// What a scenario used, in total.
#[derive(Default, serde::Serialize)]
struct Usage {
    invocations: u64,
    gb_seconds: f64,
    aws_calls: u64,
    read_units: f64,
    write_units: f64,
    frames_in: u64,
    frames_out: u64,
    billed_messages: u64,
    connection_minutes: f64,
    http_requests: u64,
    pushes: u64,
    by_function: BTreeMap<String, u64>,
    /// Read and write units by function.
    units_by_function: BTreeMap<String, [f64; 2]>,
    by_operation: BTreeMap<String, u64>,
}

impl Usage {
    fn dollars(&self) -> f64 {
        self.write_units * prices::DYNAMODB_WRITE_UNIT
            + self.read_units * prices::DYNAMODB_READ_UNIT
            + self.billed_messages as f64 * prices::WEBSOCKET_MESSAGE
            + self.connection_minutes * prices::WEBSOCKET_CONNECTION_MINUTE
            + self.http_requests as f64 * prices::HTTP_API_REQUEST
            + self.invocations as f64 * prices::LAMBDA_REQUEST
            + self.gb_seconds * prices::LAMBDA_ARM_GB_SECOND
            + self.pushes as f64 * prices::SNS_MOBILE_PUSH
    }

    fn dollars_by_service(&self) -> BTreeMap<&'static str, f64> {
        BTreeMap::from([
            ("dynamodb", self.write_units * prices::DYNAMODB_WRITE_UNIT + self.read_units * prices::DYNAMODB_READ_UNIT),
            (
                "apiGateway",
                self.billed_messages as f64 * prices::WEBSOCKET_MESSAGE
                    + self.connection_minutes * prices::WEBSOCKET_CONNECTION_MINUTE
                    + self.http_requests as f64 * prices::HTTP_API_REQUEST,
            ),
            ("lambda", self.invocations as f64 * prices::LAMBDA_REQUEST + self.gb_seconds * prices::LAMBDA_ARM_GB_SECOND),
            ("sns", self.pushes as f64 * prices::SNS_MOBILE_PUSH),
        ])
    }
}

/// Latency samples of a scenario, as reported.
#[derive(serde::Serialize)]
struct Percentiles {
    n: usize,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn percentiles(mut samples: Vec<Duration>) -> Option<Percentiles> {
    if samples.is_empty() {
        return None;
    }
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0;
    Some(Percentiles { n: samples.len(), p50_ms: at(0.5), p95_ms: at(0.95), p99_ms: at(0.99), max_ms: at(1.0) })
}

#[derive(serde::Serialize)]
struct Scenario {
    name: String,
    /// What one unit is ("message", "recipient device", "request", ...).
    unit: String,
    units: u64,
    wall_seconds: f64,
    latency: Option<Percentiles>,
    /// Handler time (all invocations of the scenario), split.
    handler_ms: Option<Percentiles>,
    handler_waiting_on_aws_ms: Option<Percentiles>,
    handler_own_work_ms: Option<Percentiles>,
    total: Usage,
    per_unit: BTreeMap<&'static str, f64>,
    dollars_per_million_units: f64,
    dollars_per_million_by_service: BTreeMap<&'static str, f64>,
}

struct Extra {
    http_requests: u64,
    pushes: u64,
    /// Connection minutes a scenario stands for but does not wait out (the hour of heartbeats).
    nominal_connection_minutes: Option<f64>,
}

const NO_EXTRA: Extra = Extra { http_requests: 0, pushes: 0, nominal_connection_minutes: None };

fn measure(system: &System, name: &str, unit: &str, units: u64, from: Mark, latency: Vec<Duration>, extra: Extra) -> Scenario {
    eprintln!("measured: {name} ({:.1?})", from.at.elapsed());
    let to = mark(system);
    let runs: Vec<_> = system.runtime.invocations().into_iter().skip(from.invocations).take(to.invocations - from.invocations).collect();
    // Scheduled jobs run per deployment, not per message.
    let runs: Vec<_> = runs.into_iter().filter(|i| i.route_key != "schedule").collect();
    let gateway = to.gateway - from.gateway;
    let mut usage = Usage {
        invocations: runs.len() as u64,
        gb_seconds: runs.iter().map(|i| i.gb_seconds()).sum(),
        aws_calls: runs.iter().map(|i| u64::from(i.calls.total())).sum(),
        read_units: runs.iter().map(|i| i.calls.read_units).sum(),
        write_units: runs.iter().map(|i| i.calls.write_units).sum(),
        frames_in: gateway.frames_in,
        frames_out: gateway.frames_out,
        billed_messages: gateway.billed_messages,
        connection_minutes: extra.nominal_connection_minutes.unwrap_or(gateway.billed_connection_minutes as f64),
        http_requests: extra.http_requests,
        pushes: extra.pushes,
        ..Usage::default()
    };
    for run in &runs {
        *usage.by_function.entry(run.function.clone()).or_default() += 1;
        let units = usage.units_by_function.entry(run.function.clone()).or_default();
        units[0] += run.calls.read_units;
        units[1] += run.calls.write_units;
        for (operation, count) in &run.calls.by_operation {
            *usage.by_operation.entry(operation.clone()).or_default() += u64::from(*count);
        }
    }
    let n = units.max(1) as f64;
    let per_unit = BTreeMap::from([
        ("invocations", usage.invocations as f64 / n),
        ("gbSeconds", usage.gb_seconds / n),
        ("awsCalls", usage.aws_calls as f64 / n),
        ("readUnits", usage.read_units / n),
        ("writeUnits", usage.write_units / n),
        ("framesIn", usage.frames_in as f64 / n),
        ("framesOut", usage.frames_out as f64 / n),
        ("billedMessages", usage.billed_messages as f64 / n),
        ("connectionMinutes", usage.connection_minutes / n),
        ("httpRequests", usage.http_requests as f64 / n),
        ("pushes", usage.pushes as f64 / n),
    ]);
    let dollars_per_million_by_service = usage.dollars_by_service().into_iter().map(|(k, v)| (k, v / n * 1e6)).collect();
    Scenario {
        name: name.into(),
        unit: unit.into(),
        units,
        wall_seconds: from.at.elapsed().as_secs_f64(),
        latency: percentiles(latency),
        handler_ms: percentiles(runs.iter().map(|i| i.duration).collect()),
        handler_waiting_on_aws_ms: percentiles(runs.iter().map(|i| i.calls.waiting).collect()),
        handler_own_work_ms: percentiles(runs.iter().map(|i| i.duration.saturating_sub(i.calls.waiting)).collect()),
        dollars_per_million_units: usage.dollars() / n * 1e6,
        dollars_per_million_by_service,
        per_unit,
        total: usage,
    }
}

fn since(sent_micros: u64, arrived_micros: u64) -> Duration {
    Duration::from_micros(arrived_micros.saturating_sub(sent_micros))
}

// ---- scenarios

/// 1-1, both online: send, delivery, ack, the delivered receipt and its ack.
async fn one_to_one_online(system: &System, rounds: usize) -> Scenario {
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let (alice, bob) = (unique("alice"), unique("bob"));
    let a = Device::connect(system, &alice, "phone", tx.clone()).await;
    let b = Device::connect(system, &bob, "phone", tx).await;
    let chat = text(&a.request(json!({"action": "createChat", "participants": [bob]})).await, "chatId").to_owned();
    b.request(json!({"action": "acceptChat", "chatId": chat})).await;
    settle(system).await;
    let from = mark(system);
    let mut latency = Vec::new();
    for i in 0..rounds {
        let id = format!("one-{i}");
        let sent = domain::time::now_micros();
        a.send(&chat, &id).await;
        latency.push(since(sent, arrivals_of(&mut arrivals, &id, 1).await));
    }
    settle(system).await;
    let scenario = measure(system, "1-1 message, both online", "message", rounds as u64, from, latency, NO_EXTRA);
    a.close().await;
    b.close().await;
    scenario
}

/// 1-1, the recipient offline with push: sends, one push, then the recipient
/// connects, syncs, acks; receipts and their acks.
async fn one_to_one_offline(system: &System, rounds: usize) -> Scenario {
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let (alice, bob) = (unique("alice"), unique("bob"));
    let a = Device::connect(system, &alice, "phone", tx.clone()).await;
    let b = Device::connect(system, &bob, "phone", tx.clone()).await;
    let chat = text(&a.request(json!({"action": "createChat", "participants": [bob]})).await, "chatId").to_owned();
    b.request(json!({"action": "acceptChat", "chatId": chat})).await;
    let registered = b.request(json!({"action": "registerPush", "platform": "GCM", "token": unique("gcm-token")})).await;
    assert_eq!(registered["type"], "pushRegistered", "{registered}");
    b.close().await;
    settle(system).await;
    let from = mark(system);
    for i in 0..rounds {
        a.send(&chat, &format!("off-{i}")).await;
    }
    e2e_tests::eventually("a push to the offline device", || async { !system.pushes_to(&bob, "phone").await.is_empty() }).await;
    let started = Instant::now();
    let b = Device::connect(system, &bob, "phone", tx).await;
    let synced = b.request(json!({"action": "sync"})).await;
    assert_eq!(synced["type"], "synced", "{synced}");
    arrivals_of(&mut arrivals, &format!("off-{}", rounds - 1), 1).await;
    let sync_time = started.elapsed();
    settle(system).await;
    let pushes = system.pushes_to(&bob, "phone").await.len() as u64;
    let extra = Extra { pushes, ..NO_EXTRA };
    let scenario =
        measure(system, "1-1 messages to an offline device, then connect + sync", "message", rounds as u64, from, vec![sync_time], extra);
    a.close().await;
    b.close().await;
    scenario
}

/// A 100-member group, `devices` devices each: the sender's message reaches
/// every other device; each acks; each recipient's delivered receipt reaches
/// the sender's devices, which ack it.
async fn group(system: &System, rounds: usize, devices: usize) -> Scenario {
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let members: Vec<String> = (0..100).map(|i| unique(&format!("g{i}"))).collect();
    let names: Vec<String> = (0..devices).map(|d| format!("d{d}")).collect();
    let mut all = Vec::new();
    for member in &members {
        all.extend(join_all(names.iter().map(|d| Device::connect(system, member, d, tx.clone()))).await);
    }
    let sender = &all[0];
    let others: Vec<&str> = members[1..].iter().map(String::as_str).collect();
    let chat = text(&sender.request(json!({"action": "createChat", "participants": others, "name": "bench"})).await, "chatId").to_owned();
    join_all(all.iter().step_by(devices).skip(1).map(|d| d.request(json!({"action": "acceptChat", "chatId": chat})))).await;
    settle(system).await;
    let receivers = members.len() * devices - 1;
    let from = mark(system);
    let mut latency = Vec::new();
    for i in 0..rounds {
        let id = format!("group-{i}");
        let sent = domain::time::now_micros();
        sender.send(&chat, &id).await;
        latency.push(since(sent, arrivals_of(&mut arrivals, &id, receivers).await));
    }
    settle(system).await;
    let name = format!("100-member group, {devices} device(s) each: per recipient device");
    let scenario = measure(system, &name, "recipient device", (rounds * receivers) as u64, from, latency, NO_EXTRA);
    join_all(all.into_iter().map(Device::close)).await;
    scenario
}

/// The sender's outbound Megolm session for a chat, once shared, and the
/// device list it was shared with.
struct Sealer {
    session: GroupSession,
    digest: String,
}

/// Every device uploads its keys (a few one-time keys and a fallback key).
async fn upload_keys(devices: &[&Device]) -> Vec<Account> {
    join_all(devices.iter().map(|device| async move {
        let mut account = Account::new();
        let reply = device.request(e2ee::upload_frame(&mut account, 4)).await;
        assert_eq!(reply["type"], "keysUploaded", "{reply}");
        account
    }))
    .await
}

/// Shares a new session of `sender`'s for `chat` with every other listed
/// device (`getDeviceKeys`, `claimKeys`, `sendToDevice`, as the SDK does);
/// returns the sealer and how many devices it reached.
async fn share_session(sender: &Device, account: &Account, chat: &str, own: (&str, &str)) -> (Sealer, usize) {
    let listed = sender.request(json!({"action": "getDeviceKeys", "chatId": chat})).await;
    assert_eq!(listed["type"], "deviceKeys", "{listed}");
    let others: Vec<Value> = listed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !(d["userId"] == own.0 && d["deviceId"] == own.1))
        .map(|d| json!({"userId": d["userId"], "deviceId": d["deviceId"]}))
        .collect();
    let session = GroupSession::new(megolm::SessionConfig::version_1());
    let room_key = e2ee::room_key(chat, &session);
    let mut messages = Vec::new();
    for chunk in others.chunks(300) {
        let claimed = sender.request(json!({"action": "claimKeys", "chatId": chat, "devices": chunk})).await;
        assert_eq!(claimed["type"], "claimedKeys", "{claimed}");
        for key in claimed["keys"].as_array().unwrap() {
            let mut olm = e2ee::outbound_session(account, key);
            messages.push(e2ee::to_device(&mut olm, text(key, "userId"), text(key, "deviceId"), &room_key));
        }
    }
    let shared = messages.len();
    for frame in e2ee::to_device_frames(chat, messages) {
        let sent = sender.request(frame).await;
        assert_eq!(sent["type"], "toDeviceSent", "{sent}");
    }
    (Sealer { session, digest: text(&listed, "digest").to_owned() }, shared)
}

/// 1-1 and a 100-member group (one device each), end-to-end encrypted:
/// sharing the sender's session with every device (per recipient device),
/// then messages as envelopes, as the plain scenarios measure them.
async fn encrypted(system: &System, rounds: usize, group_rounds: usize) -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    for members in [2, 100] {
        let (tx, mut arrivals) = mpsc::unbounded_channel();
        let users: Vec<String> = (0..members).map(|i| unique(&format!("e{i}"))).collect();
        let devices = join_all(users.iter().map(|u| Device::connect(system, u, "phone", tx.clone()))).await;
        let accounts = upload_keys(&devices.iter().collect::<Vec<_>>()).await;
        let others: Vec<&str> = users[1..].iter().map(String::as_str).collect();
        let mut create = json!({"action": "createChat", "participants": others, "encrypted": true});
        if members > 2 {
            create["name"] = json!("bench, encrypted");
        }
        let chat = text(&devices[0].request(create).await, "chatId").to_owned();
        join_all(devices[1..].iter().map(|d| d.request(json!({"action": "acceptChat", "chatId": chat})))).await;
        settle(system).await;
        let receivers = members - 1;
        let what = if members == 2 { "1-1".to_owned() } else { format!("{members}-member group, 1 device each") };

        let from = mark(system);
        let started = Instant::now();
        let (mut sealer, shared) = share_session(&devices[0], &accounts[0], &chat, (&users[0], "phone")).await;
        let sharing = started.elapsed();
        assert_eq!(shared, receivers);
        settle(system).await;
        let name = format!("encrypted {what}: sharing a session, per recipient device");
        scenarios.push(measure(system, &name, "recipient device", receivers as u64, from, vec![sharing], NO_EXTRA));

        let rounds = if members == 2 { rounds } else { group_rounds };
        let from = mark(system);
        let mut latency = Vec::new();
        for i in 0..rounds {
            let id = format!("enc-{members}-{i}");
            let envelope = e2ee::envelope(&mut sealer.session, PLAIN_TEXT);
            let sent = domain::time::now_micros();
            devices[0].send_text(&chat, &id, &envelope, Some(&sealer.digest)).await;
            latency.push(since(sent, arrivals_of(&mut arrivals, &id, receivers).await));
        }
        settle(system).await;
        let (name, unit, units) = if members == 2 {
            ("encrypted 1-1 message, both online".to_owned(), "message", rounds)
        } else {
            (format!("encrypted {what}: per recipient device"), "recipient device", rounds * receivers)
        };
        scenarios.push(measure(system, &name, unit, units as u64, from, latency, NO_EXTRA));
        join_all(devices.into_iter().map(Device::close)).await;
    }
    scenarios
}

/// HTTP reads: a page of 50 messages, and the chat list.
async fn http_reads(system: &System, rounds: usize) -> (Scenario, Scenario) {
    let (tx, _arrivals) = mpsc::unbounded_channel();
    let (alice, bob) = (unique("alice"), unique("bob"));
    let a = Device::connect(system, &alice, "phone", tx.clone()).await;
    system.sign_up(&[&bob]).await;
    let chat = text(&a.request(json!({"action": "createChat", "participants": [bob]})).await, "chatId").to_owned();
    for i in 0..60 {
        a.send(&chat, &format!("h-{i}")).await;
    }
    for i in 0..9 {
        let friend = unique(&format!("friend{i}"));
        system.sign_up(&[&friend]).await;
        a.request(json!({"action": "createChat", "participants": [friend]})).await;
    }
    settle(system).await;
    let http = system.http(&alice);
    let mut scenarios = Vec::new();
    for (name, path) in
        [("HTTP: a page of 50 messages", format!("/chats/{chat}/messages?limit=50")), ("HTTP: chat list (10 chats)", "/chats".into())]
    {
        let from = mark(system);
        let mut latency = Vec::new();
        for _ in 0..rounds {
            let started = Instant::now();
            assert_eq!(http.get(&path).await.status, 200);
            latency.push(started.elapsed());
        }
        settle(system).await;
        let extra = Extra { http_requests: rounds as u64, ..NO_EXTRA };
        scenarios.push(measure(system, name, "request", rounds as u64, from, latency, extra));
    }
    a.close().await;
    let list = scenarios.pop().expect("two scenarios");
    (scenarios.pop().expect("two scenarios"), list)
}

/// A device connecting and disconnecting.
async fn connect_disconnect(system: &System, rounds: usize) -> Scenario {
    let user = unique("commuter");
    let (tx, _arrivals) = mpsc::unbounded_channel();
    Device::connect(system, &user, "phone", tx).await.close().await;
    settle(system).await;
    let from = mark(system);
    let mut latency = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let client = system.connect(&user, "phone").await;
        latency.push(started.elapsed());
        client.close().await;
    }
    settle(system).await;
    measure(system, "connect + disconnect (a registered device)", "connection", rounds as u64, from, latency, NO_EXTRA)
}

/// An always-connected device's hour, 60 times faster: a system whose
/// presence timeout is 11 s instead of 11 minutes gets a heartbeat every 5 s
/// instead of every 5 minutes for a minute (12 beats, windows moving as they
/// would in the hour), without a requestId as clients send them; billed as
/// 60 connection minutes.
async fn heartbeat_hour(processes: bool) -> (Scenario, Vec<Invocation>) {
    let system = start(processes, &[("PresenceTimeoutSeconds", "11")]).await;
    let (tx, _arrivals) = mpsc::unbounded_channel();
    let device = Device::connect(&system, &unique("idle"), "phone", tx).await;
    settle(&system).await;
    let from = mark(&system);
    let mut beat = tokio::time::interval(Duration::from_secs(5));
    for _ in 0..12 {
        beat.tick().await;
        device.tell(json!({"action": "heartbeat"}));
    }
    settle(&system).await;
    let extra = Extra { nominal_connection_minutes: Some(60.0), ..NO_EXTRA };
    let name = "an hour connected: 12 heartbeats (one per 5 min) + 60 connection minutes";
    let scenario = measure(&system, name, "device-hour", 1, from, Vec::new(), extra);
    device.close().await;
    settle(&system).await;
    (scenario, system.runtime.invocations())
}

/// The system under test: functions as processes (release binaries when this
/// is a release build) or in process.
async fn start(processes: bool, parameters: &[(&str, &str)]) -> System {
    if processes {
        System::builder().processes(if cfg!(debug_assertions) { "debug" } else { "release" }).parameters(parameters).start().await
    } else {
        System::builder().parameters(parameters).start().await
    }
}

/// Cold starts measured per function on the idle machine after the run.
const COLD_STARTS_ALONE: usize = 10;

/// One function as Lambda would report it over the run.
#[derive(serde::Serialize)]
struct FunctionReport {
    function: String,
    memory_mb: u64,
    invocations: usize,
    cold_starts: usize,
    /// Cold starts during the run: process start to its first `/next` (its
    /// AWS clients built), many at once when a burst scales a function out.
    init_ms: Option<Percentiles>,
    /// Cold starts one at a time on the otherwise idle machine (after the run).
    init_alone_ms: Option<Percentiles>,
    /// Invocations that found their environment warm.
    warm_handler_ms: Option<Percentiles>,
    peak_rss_mb: Option<f64>,
    /// Its arm64 `bootstrap.zip`, when `scripts/package` has built it.
    zip_mb: Option<f64>,
}

async fn function_reports(system: &System, invocations: &[Invocation]) -> Vec<FunctionReport> {
    let template = local_runtime::template::Template::load(&local_runtime::repository_template()).expect("template.yaml");
    let binaries: BTreeMap<String, String> =
        template.functions().expect("functions").into_iter().map(|f| (f.logical_id, f.binary)).collect();
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let zip_mb = |function: &str| {
        let zip = std::path::Path::new(&target).join("lambda").join(binaries.get(function)?).join("bootstrap.zip");
        Some(std::fs::metadata(zip).ok()?.len() as f64 / 1e6)
    };
    let mut by_function: BTreeMap<&str, Vec<&Invocation>> = BTreeMap::new();
    for invocation in invocations {
        by_function.entry(&invocation.function).or_default().push(invocation);
    }
    let mut alone = BTreeMap::new();
    for function in by_function.keys() {
        let mut samples = Vec::new();
        for _ in 0..COLD_STARTS_ALONE {
            if let Some(Ok(init)) = system.runtime.lambda.cold_start(function).await {
                samples.push(init);
            }
        }
        alone.insert(*function, percentiles(samples));
    }
    by_function
        .into_iter()
        .map(|(function, runs)| FunctionReport {
            init_alone_ms: alone.remove(function).flatten(),
            function: function.to_owned(),
            memory_mb: runs[0].memory_mb,
            invocations: runs.len(),
            cold_starts: runs.iter().filter(|i| i.init.is_some()).count(),
            init_ms: percentiles(runs.iter().filter_map(|i| i.init).collect()),
            warm_handler_ms: percentiles(runs.iter().filter(|i| i.init.is_none() && i.error.is_none()).map(|i| i.duration).collect()),
            peak_rss_mb: runs.iter().filter_map(|i| i.peak_rss_kb).max().map(|kb| kb as f64 / 1024.0),
            zip_mb: zip_mb(function),
        })
        .collect()
}

/// The per-chat send ceiling: `senders` members of one `size`-member group
/// send `each` messages back to back (each waits for its reply), all at
/// once, while every member is connected and acknowledges what arrives.
/// Reported: the chat's messages per second; send → `sendResult` and send →
/// the last recipient device's arrival, p50 / p99; the seq attempts per send
/// (its takes from the chat's counter, 1 = the first; the transaction path
/// counted its `TransactWriteItems`); and how many were refused with
/// `contention`.
async fn send_ceiling(system: &System, path: &str, size: usize, senders: usize, each: usize) -> Value {
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let members: Vec<String> = (0..size).map(|i| unique(&format!("c{i}"))).collect();
    let devices = join_all(members.iter().map(|m| Device::connect(system, m, "phone", tx.clone()))).await;
    let others: Vec<&str> = members[1..].iter().map(String::as_str).collect();
    let chat =
        text(&devices[0].request(json!({"action": "createChat", "participants": others, "name": "ceiling"})).await, "chatId").to_owned();
    join_all(devices[1..].iter().map(|d| d.request(json!({"action": "acceptChat", "chatId": chat})))).await;
    settle(system).await;
    while arrivals.try_recv().is_ok() {}
    let from = mark(system);
    let refused = std::sync::atomic::AtomicUsize::new(0);
    let sent: Vec<Vec<(String, u64, Duration)>> = join_all(devices[..senders].iter().enumerate().map(|(s, device)| {
        let (chat, refused) = (&chat, &refused);
        async move {
            let mut sent = Vec::new();
            for i in 0..each {
                let id = format!("ceiling-{s}-{i}");
                let (at, started) = (domain::time::now_micros(), Instant::now());
                let reply =
                    device.request(json!({"action": "sendMessage", "chatId": chat, "clientMessageId": id, "message": "contend"})).await;
                if reply["status"] == "SUCCESS" {
                    sent.push((id, at, started.elapsed()));
                } else if reply["code"] == "contention" {
                    refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            sent
        }
    }))
    .await;
    let seconds = from.at.elapsed().as_secs_f64();
    let sent: Vec<(String, u64, Duration)> = sent.into_iter().flatten().collect();
    // Every message reaches the chat's other devices; the last arrival of each.
    let started_at: HashMap<&str, u64> = sent.iter().map(|(id, at, _)| (id.as_str(), *at)).collect();
    let mut arrived: HashMap<String, (usize, u64)> = HashMap::new();
    let expected = sent.len() * (size - 1);
    let mut got = 0;
    while got < expected {
        let Ok(Some((_, frame))) = tokio::time::timeout(Duration::from_secs(60), arrivals.recv()).await else { break };
        let id = text(&frame, "clientMessageId");
        if started_at.contains_key(id) {
            let entry = arrived.entry(id.to_owned()).or_default();
            *entry = (entry.0 + 1, entry.1.max(number(&frame, ARRIVED_AT)));
            got += 1;
        }
    }
    let to_last: Vec<Duration> = arrived
        .iter()
        .filter(|(_, (n, _))| *n == size - 1)
        .map(|(id, (_, last))| Duration::from_micros(last.saturating_sub(started_at[id.as_str()])))
        .collect();
    let sends: Vec<_> =
        system.runtime.invocations().into_iter().skip(from.invocations).filter(|i| i.function == "SendMessageFunction").collect();
    let mut attempts: BTreeMap<u32, usize> = BTreeMap::new();
    for send in &sends {
        // A counter send updates the rate-limit counter, the seq, the
        // sender's read marker and its claim's mark: the seq is the rest.
        let n = send.calls.count("UpdateItem").saturating_sub(3);
        *attempts.entry(n).or_default() += 1;
    }
    let refused = refused.into_inner();
    settle(system).await;
    join_all(devices.into_iter().map(Device::close)).await;
    eprintln!("measured: send ceiling, {path}, {size} members, {senders} senders ({seconds:.1}s)");
    json!({
        "path": path,
        "members": size,
        "senders": senders,
        "messages": sent.len(),
        "refusedWithContention": refused,
        "seconds": seconds,
        "messagesPerSecond": sent.len() as f64 / seconds,
        "toSendResultMs": percentiles(sent.iter().map(|(_, _, took)| *took).collect()),
        "toLastRecipientMs": percentiles(to_last),
        "deliveredToEveryDevice": arrived.values().filter(|(n, _)| *n == size - 1).count(),
        "attemptsPerSend": attempts,
    })
}

/// One chat's burst against another chat's receipts: while ten members of
/// a 100-member group (every member connected, acknowledging what arrives)
/// send `burst` messages, a 1-1 chat's sender sends a message every half
/// second and waits for its `delivered` receipt (its peer acknowledges at
/// once). Reported: send → receipt for the 1-1 probes, idle before the
/// burst and during it. The acks of the burst and the probe's go through
/// the same stream consumer.
async fn receipt_isolation(system: &System, label: &str, burst: usize, online: usize) -> Value {
    let (tx, _arrivals) = mpsc::unbounded_channel();
    let members: Vec<String> = (0..100).map(|i| unique(&format!("r{i}"))).collect();
    // The first `online` members are connected (and acknowledge); the rest
    // are offline members whose inboxes fill.
    let devices = join_all(members.iter().take(online.max(10)).map(|m| Device::connect(system, m, "phone", tx.clone()))).await;
    let others: Vec<&str> = members[1..].iter().map(String::as_str).collect();
    system.sign_up(&others).await;
    let group =
        text(&devices[0].request(json!({"action": "createChat", "participants": others, "name": "burst"})).await, "chatId").to_owned();
    join_all(devices[1..].iter().map(|d| d.request(json!({"action": "acceptChat", "chatId": group})))).await;
    let (x, y) = (unique("x"), unique("y"));
    let mut probe = system.connect(&x, "phone").await;
    probe.patience = Duration::from_secs(300);
    let peer = Device::connect(system, &y, "phone", tx.clone()).await;
    let direct = text(&probe.request(json!({"action": "createChat", "participants": [y]})).await, "chatId").to_owned();
    peer.request(json!({"action": "acceptChat", "chatId": direct})).await;
    settle(system).await;
    async fn one_probe(probe: &mut Client, chat: &str, id: &str) -> Duration {
        let started = Instant::now();
        let sent = probe.request(json!({"action": "sendMessage", "chatId": chat, "clientMessageId": id, "message": "probe"})).await;
        let seq = number(&sent, "seq");
        probe
            .wait_for(|f| f["type"] == "receipt" && f["status"] == "delivered" && f["chatId"] == chat && f["upToSeq"].as_u64() >= Some(seq))
            .await;
        started.elapsed()
    }
    let mut idle = Vec::new();
    for i in 0..5 {
        idle.push(one_probe(&mut probe, &direct, &format!("idle-{i}")).await);
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    let senders = 10;
    let burst_task = async {
        join_all(devices[..senders].iter().enumerate().map(|(s, device)| {
            let group = &group;
            async move {
                for i in 0..burst / senders {
                    device.send(group, &format!("burst-{s}-{i}")).await;
                }
            }
        }))
        .await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let probes = async {
        let mut during = Vec::new();
        let mut i = 0;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            during.push(one_probe(&mut probe, &direct, &format!("busy-{i}")).await);
            i += 1;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        during
    };
    let started = Instant::now();
    let ((), during) = tokio::join!(burst_task, probes);
    let seconds = started.elapsed().as_secs_f64();
    settle(system).await;
    join_all(devices.into_iter().chain([peer]).map(Device::close)).await;
    probe.close().await;
    let result = json!({
        "consumer": label,
        "burstMessages": burst,
        "groupMembers": 100,
        "membersOnline": online.max(10),
        "burstSeconds": seconds,
        "idleReceiptMs": percentiles(idle),
        "duringBurstReceiptMs": percentiles(during),
    });
    // (Printed at once: a later variant that fails does not take it along.)
    eprintln!("measured: receipt isolation, {label} ({seconds:.1}s): {result}");
    result
}

fn row(s: &Scenario) -> String {
    let p = |x: &Option<Percentiles>| {
        x.as_ref().map_or("-".into(), |p| format!("{:.1} / {:.1} / {:.1} / {:.1}", p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms))
    };
    let u = &s.per_unit;
    format!(
        "| {} | {} | {} | {} | {:.2} | {:.2} / {:.2} | {:.2} / {:.2} ({:.2}) | {:.2} / {:.5} | {:.2} | **${:.2}** |",
        s.name,
        s.units,
        p(&s.latency),
        s.handler_own_work_ms.as_ref().map_or("-".into(), |o| format!(
            "{:.1} / {:.1}",
            o.p50_ms,
            s.handler_waiting_on_aws_ms.as_ref().map_or(0.0, |w| w.p50_ms)
        )),
        u["awsCalls"],
        u["readUnits"],
        u["writeUnits"],
        u["framesIn"],
        u["framesOut"],
        u["billedMessages"],
        u["invocations"],
        u["gbSeconds"],
        u["connectionMinutes"],
        s.dollars_per_million_units,
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(200);
    let out = args.iter().position(|a| a == "--out").and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| "target/bench.json".into());
    let processes = !args.iter().any(|a| a == "--in-process");
    let started = Instant::now();
    let mut scenarios = Vec::new();
    let mut invocations = Vec::new();
    let mut ceiling = Vec::new();
    // (On 2026-12-02 this ran every scenario once per way of taking a seq —
    // the send's conditional transaction, then the chat's counter — side by
    // side: docs/bench/2026-12-02-both-seq-paths.json. The transaction path
    // is gone since.)
    let system = start(processes, &[RATE_LIMITS_FOR_LOAD]).await;
    // `--ceiling-only`: just the per-chat send ceiling; `--isolation-only`:
    // just one chat's burst against another's receipts.
    let isolation_only = args.iter().any(|a| a == "--isolation-only");
    // `--encrypted-only`: plain and encrypted messages side by side.
    let encrypted_only = args.iter().any(|a| a == "--encrypted-only");
    let only = isolation_only || encrypted_only || args.iter().any(|a| a == "--ceiling-only");
    let group_rounds = (rounds / 20).max(3);
    if encrypted_only {
        scenarios.extend([one_to_one_online(&system, rounds).await, group(&system, group_rounds, 1).await]);
        scenarios.extend(encrypted(&system, rounds, group_rounds).await);
    }
    if !only {
        scenarios.extend([one_to_one_online(&system, rounds).await, one_to_one_offline(&system, rounds.min(100)).await]);
        scenarios.push(group(&system, group_rounds, 1).await);
        scenarios.extend(encrypted(&system, rounds, group_rounds).await);
        scenarios.push(group(&system, group_rounds, 3).await);
        let (page, list) = http_reads(&system, rounds).await;
        scenarios.extend([page, list]);
        scenarios.push(connect_disconnect(&system, rounds.min(100)).await);
    }
    for (size, senders) in [(20, vec![1, 5, 20, 50]), (100, vec![1, 5, 20, 50])] {
        for senders in senders.into_iter().filter(|_| !isolation_only && !encrypted_only) {
            ceiling.push(send_ceiling(&system, "counter", size, senders, 10).await);
        }
    }
    invocations.extend(system.runtime.invocations());
    // The receipts consumer under another chat's burst: as the template has
    // it (ParallelizationFactor 10), and with one batch per shard at a time.
    let mut isolation = Vec::new();
    if !args.iter().any(|a| a == "--no-isolation") && !encrypted_only {
        let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).expect("template");
        // `--isolation-factor N`: only that variant (a second system started
        // in the same process after the first's burst answered every
        // `$connect` with 500 on 2026-12-02: run one process per variant).
        let only_factor = args.iter().position(|a| a == "--isolation-factor").and_then(|i| args.get(i + 1)).cloned();
        // `--isolation-online N`: only N of the 100 members connected (every
        // one of them acknowledging); on 2026-12-02 this machine's DynamoDB
        // Local could not carry all 100 acknowledging a 200-message burst.
        let online: usize =
            args.iter().position(|a| a == "--isolation-online").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok()).unwrap_or(100);
        let variants = [
            ("10", "ParallelizationFactor 10", template.clone()),
            ("1", "ParallelizationFactor 1", template.replace("ParallelizationFactor: 10", "ParallelizationFactor: 1")),
        ];
        for (_, label, text) in variants.into_iter().filter(|(factor, ..)| only_factor.as_deref().is_none_or(|only| only == *factor)) {
            let builder = System::builder().template(&text).parameters(&[RATE_LIMITS_FOR_LOAD]);
            let system =
                if processes { builder.processes(if cfg!(debug_assertions) { "debug" } else { "release" }) } else { builder }.start().await;
            isolation.push(receipt_isolation(&system, label, 200, online).await);
            invocations.extend(system.runtime.invocations());
        }
    }
    if !only {
        let (hour, its_invocations) = heartbeat_hour(processes).await;
        scenarios.push(hour);
        invocations.extend(its_invocations);
    }

    let functions = if processes { function_reports(&system, &invocations).await } else { Vec::new() };

    println!(
        "| scenario | units | latency p50 / p95 / p99 / max (ms) | handler own / waiting p50 (ms) | AWS calls | RCU / WCU | frames in / out (billed) | invocations / GB-s | connection min | $ per million units |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for scenario in &scenarios {
        println!("{}", row(scenario));
    }
    let result = json!({
        "measuredAt": domain::time::now_millis(),
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "functionsAs": if processes { "processes" } else { "in process" },
        "functions": functions,
        "rounds": rounds,
        "wallSeconds": started.elapsed().as_secs_f64(),
        "pricesChecked": prices::CHECKED,
        "scenarios": scenarios,
        "sendCeiling": ceiling,
        "receiptIsolation": isolation,
    });
    if let Some(dir) = std::path::Path::new(&out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, serde_json::to_string_pretty(&result).expect("result serialises")).expect("result written");
    println!(
        "\n| seq path | members | senders | messages | per second | to sendResult p50 / p99 (ms) | to last recipient p50 / p99 (ms) | attempts per send (attempts: sends) | refused (contention) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    let p50_99 = |p: &Value| match (p["p50_ms"].as_f64(), p["p99_ms"].as_f64()) {
        (Some(a), Some(b)) => format!("{a:.0} / {b:.0}"),
        _ => "-".into(),
    };
    for c in &result["sendCeiling"].as_array().cloned().unwrap_or_default() {
        println!(
            "| {} | {} | {} | {} | {:.1} | {} | {} | {} | {} |",
            c["path"].as_str().unwrap_or_default(),
            c["members"],
            c["senders"],
            c["messages"],
            c["messagesPerSecond"].as_f64().unwrap_or_default(),
            p50_99(&c["toSendResultMs"]),
            p50_99(&c["toLastRecipientMs"]),
            c["attemptsPerSend"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            c["refusedWithContention"]
        );
    }
    println!(
        "\n| receipts consumer | 1-1 send → delivered receipt, idle p50 / max (ms) | during a 200-message burst into a 100-member group p50 / max (ms) |\n| --- | --- | --- |"
    );
    for i in &result["receiptIsolation"].as_array().cloned().unwrap_or_default() {
        let p50_max = |p: &Value| match (p["p50_ms"].as_f64(), p["max_ms"].as_f64()) {
            (Some(a), Some(b)) => format!("{a:.0} / {b:.0}"),
            _ => "-".into(),
        };
        println!(
            "| {} | {} | {} |",
            i["consumer"].as_str().unwrap_or_default(),
            p50_max(&i["idleReceiptMs"]),
            p50_max(&i["duringBurstReceiptMs"])
        );
    }
    if processes {
        println!(
            "\n| function | MB | invocations | cold starts | init alone p50 / max (ms) | init in the run p50 / max (ms) | warm handler p50 / p99 (ms) | peak RSS (MB) | zip (MB) |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for f in &functions {
            let p = |x: &Option<Percentiles>, high: fn(&Percentiles) -> f64| {
                x.as_ref().map_or("-".into(), |p| format!("{:.1} / {:.1}", p.p50_ms, high(p)))
            };
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                f.function,
                f.memory_mb,
                f.invocations,
                f.cold_starts,
                p(&f.init_alone_ms, |p| p.max_ms),
                p(&f.init_ms, |p| p.max_ms),
                p(&f.warm_handler_ms, |p| p.p99_ms),
                f.peak_rss_mb.map_or("-".into(), |mb| format!("{mb:.1}")),
                f.zip_mb.map_or("-".into(), |mb| format!("{mb:.2}")),
            );
        }
    }
    println!("\nJSON: {out}");
}
