//! Benchmark: how long a message takes from the sender's frame to the
//! recipient's socket, 1-1 and in a 100-member group, and how long the HTTP
//! API's history page and chat list take, against the local system.
//! Reports percentiles, and splits the handler's time into time waiting on AWS
//! (the local stand-ins here; DynamoDB and API Gateway when deployed) and our
//! own work.
//!
//!   scripts/bench [ROUNDS]   (starts DynamoDB Local and moto, runs this in release mode)

use std::time::{Duration, Instant};

use e2e_tests::{ARRIVED_AT, Client, RATE_LIMITS_FOR_LOAD, System, number, text, unique};
use futures::future::join_all;
use local_runtime::Quotas;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<44} n={:<4} p50={:>7.2?} p95={:>7.2?} p99={:>7.2?} max={:>7.2?}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99),
        samples.last().unwrap()
    );
}

fn arrival_delay(frame: &serde_json::Value, sent_micros: u64) -> Duration {
    Duration::from_micros(number(frame, ARRIVED_AT).saturating_sub(sent_micros))
}

fn handler_split(system: &System, route: &str, skip: usize) {
    let runs: Vec<_> = system.runtime.invocations().into_iter().filter(|i| i.route_key == route).skip(skip).collect();
    report(&format!("  {route} handler total"), runs.iter().map(|i| i.duration).collect());
    report(&format!("  {route} waiting on AWS (any call in flight)"), runs.iter().map(|i| i.calls.waiting).collect());
    report(&format!("  {route} own work (total - AWS)"), runs.iter().map(|i| i.duration.saturating_sub(i.calls.waiting)).collect());
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(200);
    let system = System::start_with_parameters(Quotas::default(), &[RATE_LIMITS_FOR_LOAD]).await;

    // 1-1, recipient online.
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    let before = system.runtime.invocations().iter().filter(|i| i.route_key == "sendMessage").count();
    let mut delivery = Vec::new();
    let mut reply = Vec::new();
    let started = Instant::now();
    for i in 0..rounds {
        let sent = shared::time::now_micros();
        let result = a.send_message(&chat, &format!("bench-{i}"), "ping").await;
        reply.push(arrival_delay(&result, sent));
        let got = b.messages(1).await.remove(0);
        delivery.push(arrival_delay(&got, sent));
        b.ack(&[text(&got, "messageId")]).await;
    }
    println!("1-1: {rounds} messages in {:.2?}", started.elapsed());
    // Does latency grow with what is stored? The first tenth against the last.
    let tenth = (rounds / 10).max(1);
    report("1-1 send -> receives, first tenth", delivery[..tenth].to_vec());
    report("1-1 send -> receives, last tenth", delivery[rounds - tenth..].to_vec());
    report("1-1 send -> recipient receives", delivery);
    report("1-1 send -> sender gets SUCCESS", reply);
    handler_split(&system, "sendMessage", before);

    // 100-member group, one device each: time until the last member has it.
    let members: Vec<String> = (0..100).map(|i| unique(&format!("g{i}"))).collect();
    let mut clients: Vec<Client> = join_all(members.iter().map(|m| system.connect(m, "phone"))).await;
    let others: Vec<&str> = members[1..].iter().map(String::as_str).collect();
    let group = clients[0].chat_with(&others, Some("bench")).await;
    let before = system.runtime.invocations().iter().filter(|i| i.route_key == "sendMessage").count();
    let (first, rest) = clients.split_at_mut(1);
    let mut last_member = Vec::new();
    let group_rounds = (rounds / 10).max(5);
    for i in 0..group_rounds {
        let sent = shared::time::now_micros();
        first[0].send_message(&group, &format!("g-{i}"), "to all").await;
        let arrivals = join_all(rest.iter_mut().map(|c| async move { c.messages(1).await.remove(0) })).await;
        last_member.push(arrivals.iter().map(|f| arrival_delay(f, sent)).max().unwrap());
    }
    report("group of 100: send -> last of 99 receives", last_member);
    handler_split(&system, "sendMessage", before);

    // HTTP API reads: a page of 50 messages of the 1-1 chat (now holding
    // `rounds` messages) and the chat list, as a client sees them.
    let http = system.http(&bob);
    let mut page = Vec::new();
    let mut list = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        assert_eq!(http.get(&format!("/chats/{chat}/messages?limit=50")).await.status, 200);
        page.push(started.elapsed());
        let started = Instant::now();
        assert_eq!(http.get("/chats").await.status, 200);
        list.push(started.elapsed());
    }
    report("HTTP: page of 50 messages, request -> response", page);
    handler_split(&system, "GET /chats/{chatId}/messages", 0);
    report("HTTP: chat list, request -> response", list);
    handler_split(&system, "GET /chats", 0);
}
