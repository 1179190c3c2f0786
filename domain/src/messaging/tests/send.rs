//! Sending: one stored message per `clientMessageId`, seqs in the order a
//! device sent, every other device of every member reached.

use serde_json::json;

use super::{World, code, request};
use crate::fakes::{Fakes, config};
use crate::protocol::ServerFrame;

#[tokio::test]
async fn a_retried_send_is_one_message_with_the_first_ones_seq() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let group = world.group(&alice, &["bob"]).await;
    let first = world.send_as(&alice, &group, "hello", "same").await.unwrap();
    let again = world.send_as(&alice, &group, "hello", "same").await.unwrap();
    match (first, again) {
        (ServerFrame::SendResult { seq: a, duplicate: false, .. }, ServerFrame::SendResult { seq: b, duplicate: true, .. }) => {
            assert_eq!(a, b);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(world.inbox_texts(&bob), ["hello"], "one message stored for bob");
    let stored = world.ctx().store.entries_between(&group, 1, 100, true, 100).await.unwrap();
    assert_eq!(stored.len(), 1);
}

#[tokio::test]
async fn a_devices_sends_take_increasing_seqs() {
    let world = World::new();
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob"]).await;
    let mut seqs = Vec::new();
    for n in 0..5 {
        seqs.push(world.sent(&alice, &group, &format!("m{n}")).await);
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[tokio::test]
async fn every_device_but_the_sending_one_gets_the_message() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let (laptop, tablet) = (world.device("alice", "laptop").await, world.device("bob", "tablet").await);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "hi").await;
    assert_eq!(world.texts(&bob), ["hi"]);
    assert_eq!(world.texts(&tablet), ["hi"]);
    assert_eq!(world.texts(&laptop), ["hi"], "the sender's other device keeps the conversation");
    assert!(world.texts(&alice).is_empty(), "the sending device has the reply");
}

#[tokio::test]
async fn a_device_offline_finds_the_message_in_its_inbox() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    super::super::disconnect(world.ctx(), &bob, &super::connection(&bob)).await.unwrap();
    world.fakes.delivery.forget_posts();
    world.sent(&alice, &chat, "while away").await;
    assert!(world.texts(&bob).is_empty(), "nothing posted to a closed connection");
    assert_eq!(world.inbox_texts(&bob), ["while away"]);
}

#[tokio::test]
async fn only_members_send() {
    let world = World::new();
    let (alice, eve) = (world.person("alice").await, world.person("eve").await);
    let group = world.group(&alice, &["bob"]).await;
    assert_eq!(code(world.send(&eve, &group, "let me in").await), "not_member");
    assert_eq!(code(world.send(&eve, "g-nothing-here", "hello?").await), "not_member");
}

#[tokio::test]
async fn a_message_past_the_size_limit_is_refused_and_nothing_is_stored() {
    let world = World::with(Fakes::with_config(config(&[("MAX_MESSAGE_BYTES", "10")])));
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob"]).await;
    assert_eq!(code(world.send(&alice, &group, "eleven byte").await), "message_too_long");
    assert_eq!(code(world.send(&alice, &group, "   ").await), "invalid_request", "a message needs text");
    assert!(world.ctx().store.entries_between(&group, 0, 100, true, 100).await.unwrap().is_empty());
    world.sent(&alice, &group, "ten bytes!").await;
}

#[tokio::test]
async fn a_bad_client_message_id_is_refused() {
    let world = World::new();
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob"]).await;
    assert_eq!(code(world.send_as(&alice, &group, "hi", "").await), "invalid_request");
    assert_eq!(code(world.send_as(&alice, &group, "hi", &"x".repeat(1000)).await), "invalid_request");
}

#[tokio::test]
async fn mentions_of_members_are_kept_for_them_and_not_for_others() {
    let world = World::new();
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob", "carol"]).await;
    let seq = world.sent(&alice, &group, "@bob look, and @zoe too").await;
    let bob = world.ctx().store.membership("bob", &group).await.unwrap().unwrap();
    let carol = world.ctx().store.membership("carol", &group).await.unwrap().unwrap();
    assert_eq!(bob.mentions, [seq]);
    assert!(carol.mentions.is_empty());
    assert!(world.ctx().store.membership("zoe", &group).await.unwrap().is_none(), "no one outside is written");
}

#[tokio::test]
async fn a_reply_quotes_the_message_it_answers() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    let asked = world.sent(&alice, &chat, "lunch?").await;
    let frame = json!({ "chatId": chat, "clientMessageId": "r1", "message": "yes", "replyTo": asked });
    super::super::send_message(world.ctx(), &bob, request(frame)).await.unwrap();
    let reply = world.received(&alice).into_iter().find(|f| f["type"] == "newMessage").unwrap();
    assert_eq!((reply["replyTo"]["seq"].as_u64(), reply["replyTo"]["snippet"].as_str()), (Some(asked), Some("lunch?")));
    let missing = json!({ "chatId": chat, "clientMessageId": "r2", "message": "eh", "replyTo": 99 });
    assert_eq!(code(super::super::send_message(world.ctx(), &bob, request(missing)).await), "invalid_request");
}

#[tokio::test]
async fn the_sender_has_read_up_to_their_own_message() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "one").await;
    let seq = world.sent(&bob, &chat, "two").await;
    assert_eq!(world.ctx().store.membership("bob", &chat).await.unwrap().unwrap().last_read, seq);
    assert_eq!(world.ctx().store.membership("alice", &chat).await.unwrap().unwrap().last_read, seq - 1);
}
