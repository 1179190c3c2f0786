//! Rate limits: a request over its limit is refused with the seconds to
//! wait, changes nothing, and costs no one else.

use super::{World, code};
use crate::error::AppError;
use crate::fakes::{Fakes, config};

fn limited(rates: &str) -> World {
    World::with(Fakes::with_config(config(&[("RATE_LIMITS", rates)])))
}

#[tokio::test]
async fn a_send_over_the_limit_is_refused_and_stored_nowhere() {
    let world = limited("sendMessage=2/60");
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "1").await;
    world.sent(&alice, &chat, "2").await;
    match world.send(&alice, &chat, "3").await {
        Err(AppError::RateLimited { limit, retry_after_secs }) => {
            assert_eq!(limit, "sendMessage");
            assert!((1..=60).contains(&retry_after_secs), "{retry_after_secs}");
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    assert_eq!(world.inbox_texts(&bob), ["1", "2"]);
}

#[tokio::test]
async fn one_users_limit_costs_no_one_else() {
    let world = limited("sendMessage=1/60");
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "mine").await;
    assert_eq!(code(world.send(&alice, &chat, "more").await), "rate_limited");
    world.sent(&bob, &chat, "bob still can").await;
}

#[tokio::test]
async fn creating_chats_is_limited_per_user() {
    let world = limited("createChat=2/60");
    let alice = world.person("alice").await;
    world.direct(&alice, "bob").await;
    world.direct(&alice, "carol").await;
    assert_eq!(code(world.create(&alice, &["dave"], None).await), "rate_limited");
    assert!(world.ctx().store.get_chat(&crate::ids::direct_chat_id("alice", "dave")).await.unwrap().is_none());
}

#[tokio::test]
async fn changes_are_limited_together() {
    let world = limited("messageChanges=2/60");
    let alice = world.person("alice").await;
    let chat = world.direct(&alice, "bob").await;
    let seq = world.sent(&alice, &chat, "x").await;
    let react = |emoji: &'static str| {
        let frame = serde_json::json!({ "chatId": chat, "seq": seq, "emoji": emoji });
        super::super::react(world.ctx(), &alice, super::request(frame))
    };
    react("👍").await.unwrap();
    react("🎉").await.unwrap();
    assert_eq!(code(react("😂").await), "rate_limited");
    let edit = serde_json::json!({ "chatId": chat, "seq": seq, "message": "y" });
    assert_eq!(
        code(super::super::edit_message(world.ctx(), &alice, super::request(edit)).await),
        "rate_limited",
        "an edit is a change too"
    );
}
