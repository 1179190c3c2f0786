//! `$connect` authentication and API Gateway's connection quotas.

use std::time::Duration;

use domain::auth::Claims;
use e2e_tests::{Client, Http, System, eventually, unique};
use local_runtime::Quotas;

#[tokio::test]
async fn missing_bad_or_expired_tokens_are_refused_with_401_and_store_nothing() {
    let system = System::start().await;
    let user = unique("intruder");
    let base = system.runtime.websocket_url();
    let expired = domain::auth::issue_token(&system.runtime.jwt_secret, &user, "phone", -3600);
    let wrong_key = domain::auth::issue_token("some-other-secret-0123456789", &user, "phone", 3600);
    for url in [
        base.clone(),
        format!("{base}?token="),
        format!("{base}?token=garbage"),
        format!("{base}?token={expired}"),
        format!("{base}?token={wrong_key}"),
    ] {
        assert_eq!(Client::open(&url).await.err(), Some(401), "{url}");
    }
    assert_eq!(system.runtime.gateway.connection_count(), 0);
    let stored = system
        .dynamo()
        .await
        .get_item()
        .table_name(system.table("UsersTable"))
        .key("userId", aws_sdk_dynamodb::types::AttributeValue::S(user))
        .send()
        .await
        .unwrap();
    assert!(stored.item.is_none(), "a refused connect stores nothing");
}

#[tokio::test]
async fn idle_connections_are_closed_like_api_gateway_does() {
    let quotas = Quotas { idle_timeout: Duration::from_millis(700), ..Quotas::default() };
    let system = System::builder().quotas(quotas).start().await;
    let mut client = system.connect(&unique("sleepy"), "phone").await;
    assert_eq!(client.closed().await, Some(1001));
}

#[tokio::test]
async fn connections_are_closed_at_the_maximum_age_even_when_active() {
    let quotas = Quotas { max_connection_age: Duration::from_millis(1200), ..Quotas::default() };
    let system = System::builder().quotas(quotas).start().await;
    let mut client = system.connect(&unique("busy"), "phone").await;
    for _ in 0..3 {
        client.sync().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(client.closed().await, Some(1001));
}

/// A device holds one socket: connecting again (a reconnect, or a second
/// socket with the same token) closes the earlier one, so one token cannot
/// keep hundreds of sockets open to watch presence from (issue 13). Messages
/// reach the new socket.
#[tokio::test]
async fn a_device_connecting_again_replaces_its_earlier_socket() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut first = system.connect(&bob, "phone").await;
    let mut second = system.connect(&bob, "phone").await;
    // Told why first, so that its client does not reconnect and close the new one.
    let mut told = first.wait_for(|f| f["type"] == "connectionReplaced").await;
    told.as_object_mut().expect("a frame").remove("_arrivedAtMicros");
    assert_eq!(told, serde_json::json!({ "type": "connectionReplaced" }));
    assert_eq!(first.closed().await, Some(1000), "the earlier socket is closed by the server");
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    a.send_message(&chat, "m1", "to the new socket").await;
    let got = second.wait_for(|f| f["type"] == "newMessage").await;
    assert_eq!(got["message"], "to the new socket");
    let connections = second.request(serde_json::json!({ "action": "listDevices" })).await;
    assert_eq!(connections["devices"].as_array().map(Vec::len), Some(1), "{connections}");
}

/// A token is good only between its `nbf` and `exp`, and only when it names
/// itself once: a URL with two `token` parameters is refused rather than
/// guessed at (API Gateway would pass the last).
#[tokio::test]
async fn tokens_for_later_or_named_twice_are_refused() {
    let system = System::start().await;
    let (bob, mallory) = (unique("bob"), unique("mallory"));
    let now = domain::time::now_secs();
    let secret = &system.runtime.jwt_secret;
    let from = |nbf| {
        let claims = Claims { sub: bob.clone(), device: "phone".into(), exp: now + 3600, iat: Some(now), nbf: Some(nbf) };
        domain::auth::sign(secret, &claims)
    };
    let base = system.runtime.websocket_url();
    assert_eq!(Client::open(&format!("{base}?token={}", from(now + 600))).await.err(), Some(401), "a token for later");
    let twice =
        format!("{base}?token={}&token={}", system.runtime.issue_token(&mallory, "phone"), system.runtime.issue_token(&bob, "phone"));
    assert_eq!(Client::open(&twice).await.err(), Some(401), "two tokens");
    assert_eq!(system.runtime.gateway.connection_count(), 0);
    let mut client = Client::open(&format!("{base}?token={}", from(now))).await.expect("a token valid from now connects");
    assert_eq!(client.sync().await["type"], "synced");
}

/// The HTTP API takes `Authorization: Bearer <token>` only, and stops taking a
/// token once it expires, although API Gateway still holds the authorizer's
/// cached yes (`ReauthorizeEvery: 60`).
#[tokio::test]
async fn the_http_api_takes_bearer_tokens_only_and_none_past_expiry() {
    let system = System::start().await;
    let user = unique("carol");
    let token = system.runtime.issue_token(&user, "phone");
    let unschemed =
        reqwest::Client::new().get(format!("{}/chats", system.http_url())).header("authorization", &token).send().await.unwrap();
    assert_eq!(unschemed.status().as_u16(), 403, "a token without the Bearer scheme");
    assert_eq!(Http::new(system.http_url(), Some(token)).get("/chats").await.status, 200);

    let short_lived = Http::new(system.http_url(), Some(domain::auth::issue_token(&system.runtime.jwt_secret, &user, "phone", 1)));
    assert_eq!(short_lived.get("/chats").await.status, 200, "valid now, and the authorizer's yes is cached");
    eventually("the expired token is refused while the cached yes still stands", || async {
        let reply = short_lived.get("/chats").await;
        assert_ne!(reply.status, 403, "the authorizer's cache expired first: the handler never checked the expiry");
        reply.status == 401 && reply.body["code"] == "unauthorized"
    })
    .await;
}
