//! `typing`: who is typing in a chat, to its other members' connected
//! devices only. Ephemeral by design: never stored, never in an inbox or
//! `sync` (a device that connects later has nothing to catch up on), and it
//! expires on its own (`TYPING_SHOWS_FOR_MS`) unless renewed.
//!
//! Consent (issue 13): someone who has not accepted a chat neither shows as
//! typing in it nor sees others typing — typing is presence; nor does anyone
//! in a 1-1 chat where one blocked the other.

use super::{Audience, live_targets};
use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::limits::Limit;
use crate::protocol::{ServerFrame, TYPING_SHOWS_FOR_MS, TypingRequest};
use crate::time::now_millis;

pub async fn typing(ctx: &AppContext, who: &Identity, request: TypingRequest) -> Result<ServerFrame, AppError> {
    // Per device: a typing client renews every few seconds on each device.
    ctx.charge(Limit::Typing, &crate::ids::device_key(&who.user_id, &who.device_id), 1).await?;
    let chat = ctx.store.get_chat_item(&request.chat_id).await?;
    let chat = chat.filter(|c| c.is_member(&who.user_id)).ok_or(AppError::NotMember)?;
    // (A blocked 1-1 chat shows no typing either way.)
    if chat.is_requested(&who.user_id) || chat.is_blocked() {
        return Ok(ServerFrame::TypingSent { chat_id: chat.chat_id, devices: 0 });
    }
    let others: Vec<String> = chat.accepted_members().filter(|m| **m != who.user_id).cloned().collect();
    let devices = ctx.store.devices_of(&others).await?;
    let targets = live_targets(&Audience { users: others, except: None }, &devices, now_millis());
    let frame = ServerFrame::Typing {
        chat_id: chat.chat_id.clone(),
        user_id: who.user_id.to_string(),
        typing: request.typing,
        expires_in_ms: if request.typing { TYPING_SHOWS_FOR_MS } else { 0 },
    };
    let posted = super::delivery::post_to_all(ctx, &targets, &frame.to_json()).await;
    Ok(ServerFrame::TypingSent { chat_id: chat.chat_id, devices: posted })
}
