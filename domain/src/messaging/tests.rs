//! The messaging rules, unit-tested through the ports: every test runs the
//! domain's own functions on the in-memory fakes (`crate::fakes`), with no
//! stand-in running, and checks what a user would — what they were sent,
//! what their chat list and history say, what they were refused. The
//! end-to-end tests (`tests/`) keep what only the running system shows.

mod blocking;
mod changes;
mod consent;
mod devices;
mod encryption;
mod limits;
mod media;
mod membership;
mod privacy;
mod reads;
mod send;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::Identity;
use crate::error::AppError;
use crate::fakes::Fakes;
use crate::ids::{DeviceId, UserId, device_key};
use crate::protocol::ServerFrame;

/// A request as a client sends it: parsed from its JSON, so the tests go
/// through the same checks (typed ids, unknown fields) as a real frame.
pub(super) fn request<T: DeserializeOwned>(frame: Value) -> T {
    serde_json::from_value(frame).expect("the test's request is well formed")
}

pub(super) fn who(user: &str, device: &str) -> Identity {
    Identity { user_id: UserId::parse(user).unwrap(), device_id: DeviceId::parse(device).unwrap() }
}

/// The connection id a device connects with here.
pub(super) fn connection(who: &Identity) -> String {
    format!("{}-{}", who.user_id, who.device_id)
}

/// People with connected devices, and the fakes behind them.
pub(super) struct World {
    pub fakes: Fakes,
    sent: std::sync::atomic::AtomicU64,
}

impl World {
    pub fn new() -> Self {
        Self::with(Fakes::new())
    }

    pub fn with(fakes: Fakes) -> Self {
        Self { fakes, sent: Default::default() }
    }

    pub fn ctx(&self) -> &crate::AppContext {
        &self.fakes.ctx
    }

    /// A user on their phone, connected.
    pub async fn person(&self, user: &str) -> Identity {
        self.device(user, "phone").await
    }

    /// A user's device, connected.
    pub async fn device(&self, user: &str, device: &str) -> Identity {
        let who = who(user, device);
        super::connect(self.ctx(), &who, &connection(&who)).await.expect("connects");
        who
    }

    /// Each of `users` has signed in once (their phone registered, now
    /// offline) unless they already had: only such people can be in a chat.
    pub async fn signed_up(&self, users: &[&str]) {
        let names: Vec<String> = users.iter().map(|u| (*u).to_owned()).collect();
        let registered = self.ctx().store.registered_users(&names).await.expect("the fake answers");
        for user in users.iter().filter(|u| !registered.contains(**u)) {
            let Ok(user_id) = UserId::parse(*user) else { continue };
            let who = Identity { user_id, device_id: DeviceId::parse("phone").unwrap() };
            super::connect(self.ctx(), &who, &connection(&who)).await.expect("connects");
            super::disconnect(self.ctx(), &who, &connection(&who)).await.expect("disconnects");
        }
    }

    /// `by` starts a chat with `participants`, who signed up before.
    pub async fn create(&self, by: &Identity, participants: &[&str], name: Option<&str>) -> Result<ServerFrame, AppError> {
        self.signed_up(participants).await;
        self.create_with_anyone(by, participants, name).await
    }

    /// `by` starts a chat with `participants` as they are.
    pub async fn create_with_anyone(&self, by: &Identity, participants: &[&str], name: Option<&str>) -> Result<ServerFrame, AppError> {
        let mut frame = json!({ "participants": participants });
        if let Some(name) = name {
            frame["name"] = json!(name);
        }
        super::create_chat(self.ctx(), by, request(frame)).await
    }

    /// A group named "Team" of `by` and `others`; its id.
    pub async fn group(&self, by: &Identity, others: &[&str]) -> String {
        match self.create(by, others, Some("Team")).await.expect("group created") {
            ServerFrame::ChatCreated { chat_id, .. } => chat_id,
            other => panic!("expected chatCreated, got {other:?}"),
        }
    }

    /// The 1-1 chat of `by` with `other`; its id.
    pub async fn direct(&self, by: &Identity, other: &str) -> String {
        match self.create(by, &[other], None).await.expect("chat created") {
            ServerFrame::ChatCreated { chat_id, .. } => chat_id,
            other => panic!("expected chatCreated, got {other:?}"),
        }
    }

    /// Sends `text` with a fresh `clientMessageId`; the reply.
    pub async fn send(&self, by: &Identity, chat_id: &str, text: &str) -> Result<ServerFrame, AppError> {
        let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.send_as(by, chat_id, text, &format!("c{n}")).await
    }

    pub async fn send_as(&self, by: &Identity, chat_id: &str, text: &str, client_message_id: &str) -> Result<ServerFrame, AppError> {
        let frame = json!({ "chatId": chat_id, "clientMessageId": client_message_id, "message": text });
        super::send_message(self.ctx(), by, request(frame)).await
    }

    /// Sends `text` and answers its seq.
    pub async fn sent(&self, by: &Identity, chat_id: &str, text: &str) -> u64 {
        match self.send(by, chat_id, text).await.expect("sent") {
            ServerFrame::SendResult { seq, .. } => seq,
            other => panic!("expected sendResult, got {other:?}"),
        }
    }

    /// Every frame posted live to the device, oldest first.
    pub fn received(&self, who: &Identity) -> Vec<Value> {
        self.fakes.delivery.frames_to(&connection(who))
    }

    /// The texts of the messages posted live to the device, in order.
    pub fn texts(&self, who: &Identity) -> Vec<String> {
        self.received(who)
            .iter()
            .filter(|f| f["type"] == "newMessage")
            .map(|f| f["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The texts of the messages waiting in the device's inbox, in seq order.
    pub fn inbox_texts(&self, who: &Identity) -> Vec<String> {
        let mut entries = self.fakes.store.inbox_of(&device_key(&who.user_id, &who.device_id));
        entries.retain(|e| e.is_message());
        entries.sort_by_key(|e| e.seq);
        entries
            .iter()
            .map(|e| serde_json::from_str::<Value>(&e.frame).unwrap()["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The `type`s of the frames posted live to the device, oldest first.
    pub fn kinds(&self, who: &Identity) -> Vec<String> {
        self.fakes.delivery.kinds_to(&connection(who))
    }
}

/// The error code a refusal carries (what the client sees).
pub(super) fn code<T: std::fmt::Debug>(result: Result<T, AppError>) -> &'static str {
    match result {
        Ok(value) => panic!("expected a refusal, got {value:?}"),
        Err(e) => e.code(),
    }
}
