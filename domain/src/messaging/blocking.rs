//! Blocking: a user blocks another. The blocked user may not start a 1-1
//! chat with the blocker, send in their 1-1 chat, see the blocker's presence
//! or last seen (nor their profile), or add them to a group; group messages
//! still flow both ways, as WhatsApp does. The blocker, too, must unblock
//! before writing in their 1-1 chat. Unblocking restores all of it, except
//! that the unblocked user is no longer accepted: their next chat is a
//! request (blocking ends acceptance).
//!
//! Stored twice, each where it is read for free or once: in the blocker's
//! Contacts partition (the list; checked by key when a chat is created, a
//! member added, presence asked for) and on the 1-1 chat's item if it exists
//! (`blockedBy`, which every send reads anyway).

use std::collections::BTreeSet;

use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids;
use crate::limits::Limit;
use crate::protocol::{BlockUserRequest, ServerFrame};
use crate::time::now_millis;

pub async fn block_user(ctx: &AppContext, who: &Identity, request: BlockUserRequest) -> Result<ServerFrame, AppError> {
    let other = &request.user_id;
    if *other == who.user_id {
        return Err(AppError::invalid("you cannot block yourself"));
    }
    ctx.charge(Limit::Blocks, &who.user_id, 1).await?;
    let mut blocked = ctx.store.blocked_by(&who.user_id).await?;
    let chat_id = ids::direct_chat_id(&who.user_id, other);
    if request.blocked {
        if !blocked.iter().any(|b| b == other) {
            let max = ctx.config.max_blocked_users;
            if blocked.len() >= max {
                return Err(AppError::TooManyBlocked { max });
            }
            ctx.store.block(&who.user_id, other, now_millis()).await?;
            blocked.push(other.to_string());
            blocked.sort();
        }
        // Idempotent: a retry after a failure here completes the block.
        ctx.store.set_blocked_by(&chat_id, &who.user_id, true).await?;
        // Whatever the blocked user was watching of the blocker ends now.
        let watching: Vec<String> = ctx
            .store
            .presence_subscribers(&who.user_id, now_millis() / 1000, ctx.config.max_presence_watchers)
            .await?
            .into_iter()
            .filter(|s| s.subscriber_id == *other)
            .map(|s| s.watcher_key)
            .collect();
        if !watching.is_empty() {
            ctx.store.drop_presence_subscriptions(&who.user_id, &watching).await?;
        }
    } else {
        ctx.store.unblock(&who.user_id, other).await?;
        ctx.store.set_blocked_by(&chat_id, &who.user_id, false).await?;
        blocked.retain(|b| b != other);
    }
    Ok(ServerFrame::BlockList { blocked })
}

pub async fn list_blocked(ctx: &AppContext, who: &Identity) -> Result<ServerFrame, AppError> {
    Ok(ServerFrame::BlockList { blocked: ctx.store.blocked_by(&who.user_id).await? })
}

/// Which of `users` blocked `actor` (one BatchGetItem).
pub(crate) async fn blockers_of(ctx: &AppContext, users: &[String], actor: &str) -> Result<BTreeSet<String>, AppError> {
    let pairs: Vec<(String, String)> = users.iter().filter(|u| *u != actor).map(|u| (u.clone(), actor.to_owned())).collect();
    Ok(ctx.store.blocks_among(&pairs).await?.into_iter().map(|(blocker, _)| blocker).collect())
}

/// Blocks between `actor` and each of `users`, both ways (one BatchGetItem
/// per 50 users): who among them blocked `actor`, and whom `actor` blocks.
pub(crate) async fn blocks_with(ctx: &AppContext, users: &[String], actor: &str) -> Result<(BTreeSet<String>, BTreeSet<String>), AppError> {
    let pairs: Vec<(String, String)> =
        users.iter().filter(|u| *u != actor).flat_map(|u| [(u.clone(), actor.to_owned()), (actor.to_owned(), u.clone())]).collect();
    let (by_actor, of_actor): (Vec<_>, Vec<_>) =
        ctx.store.blocks_among(&pairs).await?.into_iter().partition(|(blocker, _)| blocker == actor);
    Ok((of_actor.into_iter().map(|(blocker, _)| blocker).collect(), by_actor.into_iter().map(|(_, blocked)| blocked).collect()))
}

/// Whether either of two users blocked the other (one BatchGetItem).
pub(crate) async fn either_blocked(ctx: &AppContext, a: &str, b: &str) -> Result<bool, AppError> {
    let pairs = [(a.to_owned(), b.to_owned()), (b.to_owned(), a.to_owned())];
    Ok(!ctx.store.blocks_among(&pairs).await?.is_empty())
}
