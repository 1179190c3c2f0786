//! Blocking: the blocked may not start a 1-1 chat with the blocker, send in
//! it, or add them to a group; group messages still flow; unblocking does
//! not bring back acceptance.

use serde_json::json;

use super::super::blocking::{block_user, list_blocked};
use super::{World, code, request};
use crate::auth::Identity;
use crate::fakes::{Fakes, config};
use crate::protocol::ServerFrame;

async fn block(world: &World, by: &Identity, user: &str, blocked: bool) -> Vec<String> {
    match block_user(world.ctx(), by, request(json!({ "userId": user, "blocked": blocked }))).await.expect("block") {
        ServerFrame::BlockList { blocked } => blocked,
        other => panic!("expected blockList, got {other:?}"),
    }
}

#[tokio::test]
async fn a_blocked_user_cannot_start_a_chat_with_the_blocker() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    block(&world, &alice, "bob", true).await;
    assert_eq!(code(world.create(&bob, &["alice"], None).await), "blocked");
    assert_eq!(code(world.create(&alice, &["bob"], None).await), "blocked", "nor the blocker, until they unblock");
}

#[tokio::test]
async fn neither_can_send_in_their_chat_while_one_blocks_the_other() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "before").await;
    block(&world, &bob, "alice", true).await;
    assert_eq!(code(world.send(&alice, &chat, "while blocked").await), "blocked");
    assert_eq!(code(world.send(&bob, &chat, "from the blocker").await), "blocked");
    assert_eq!(world.texts(&bob), ["before"], "nothing sent while blocked reached bob");

    block(&world, &bob, "alice", false).await;
    world.sent(&alice, &chat, "after").await;
    assert_eq!(world.texts(&bob), ["before", "after"]);
}

#[tokio::test]
async fn the_blocked_cannot_add_the_blocker_to_a_group() {
    let world = World::new();
    let (alice, bob, _carol) = (world.person("alice").await, world.person("bob").await, world.person("carol").await);
    block(&world, &alice, "bob", true).await;
    assert_eq!(code(world.create(&bob, &["alice", "carol"], Some("Trip")).await), "blocked");
    let group = world.group(&bob, &["carol"]).await;
    let add =
        super::super::modify_participants(world.ctx(), &bob, request(json!({ "chatId": group, "userId": "alice", "operation": "ADD" })))
            .await;
    assert_eq!(code(add), "blocked");
}

#[tokio::test]
async fn group_messages_still_flow_both_ways() {
    let world = World::new();
    let (alice, bob, carol) = (world.person("alice").await, world.person("bob").await, world.person("carol").await);
    let group = world.group(&carol, &["alice", "bob"]).await;
    block(&world, &alice, "bob", true).await;
    world.sent(&bob, &group, "from bob").await;
    world.sent(&alice, &group, "from alice").await;
    assert_eq!(world.texts(&alice), ["from bob"]);
    assert_eq!(world.texts(&bob), ["from alice"]);
}

#[tokio::test]
async fn nobody_can_block_themself() {
    let world = World::new();
    let alice = world.person("alice").await;
    let result = block_user(world.ctx(), &alice, request(json!({ "userId": "alice", "blocked": true }))).await;
    assert_eq!(code(result), "invalid_request");
}

#[tokio::test]
async fn the_block_list_is_sorted_and_blocking_twice_lists_once() {
    let world = World::new();
    let alice = world.person("alice").await;
    block(&world, &alice, "zoe", true).await;
    block(&world, &alice, "bob", true).await;
    assert_eq!(block(&world, &alice, "bob", true).await, ["bob", "zoe"]);
    match list_blocked(world.ctx(), &alice).await.unwrap() {
        ServerFrame::BlockList { blocked } => assert_eq!(blocked, ["bob", "zoe"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(block(&world, &alice, "zoe", false).await, ["bob"]);
}

#[tokio::test]
async fn a_user_blocks_at_most_the_configured_number() {
    let world = World::with(Fakes::with_config(config(&[("MAX_BLOCKED_USERS", "2")])));
    let alice = world.person("alice").await;
    block(&world, &alice, "bob", true).await;
    block(&world, &alice, "carol", true).await;
    let third = block_user(world.ctx(), &alice, request(json!({ "userId": "dave", "blocked": true }))).await;
    assert_eq!(code(third), "too_many_blocked");
    assert_eq!(block(&world, &alice, "carol", true).await, ["bob", "carol"], "again is no new block, and dave is not in");
}

#[tokio::test]
async fn after_an_unblock_the_next_chat_is_a_request_again() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    // Alice started a chat with bob: she accepted him.
    world.direct(&alice, "bob").await;
    let before = world.group(&bob, &["alice"]).await;
    assert!(!world.fakes.store.memberships_in(&before).iter().any(|m| m.request), "bob's group is no request to alice");

    block(&world, &alice, "bob", true).await;
    block(&world, &alice, "bob", false).await;
    let after = world.group(&bob, &["alice"]).await;
    let requested: Vec<String> = world.fakes.store.memberships_in(&after).into_iter().filter(|m| m.request).map(|m| m.user_id).collect();
    assert_eq!(requested, ["alice"], "blocking ended alice's acceptance of bob");
}
