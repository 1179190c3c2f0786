//! `$connect` authentication and API Gateway's connection quotas.

use std::time::Duration;

use e2e_tests::{Client, System, unique};
use local_runtime::Quotas;

#[tokio::test]
async fn missing_bad_or_expired_tokens_are_refused_with_401_and_store_nothing() {
    let system = System::start().await;
    let user = unique("intruder");
    let base = system.runtime.websocket_url();
    let expired = shared::auth::issue_token(&system.runtime.jwt_secret, &user, "phone", -3600);
    let wrong_key = shared::auth::issue_token("some-other-secret-0123456789", &user, "phone", 3600);
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
    let system = System::start_with(quotas).await;
    let mut client = system.connect(&unique("sleepy"), "phone").await;
    assert_eq!(client.closed().await, Some(1001));
}

#[tokio::test]
async fn connections_are_closed_at_the_maximum_age_even_when_active() {
    let quotas = Quotas { max_connection_age: Duration::from_millis(1200), ..Quotas::default() };
    let system = System::start_with(quotas).await;
    let mut client = system.connect(&unique("busy"), "phone").await;
    for _ in 0..3 {
        client.sync().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(client.closed().await, Some(1001));
}
