//! `modifyChatParticipants`.
//!
//! Who may change a group: admins add and remove members (the creator is the
//! first admin); any member may remove themselves (leave). When the last admin
//! leaves, the remaining member with the smallest id becomes admin. 1-1 chats
//! never change members.

use super::{Audience, Outgoing, new_event_id, publish};
use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids::{check_chat_id, check_id};
use crate::protocol::{ChatKind, ModifyChatParticipantsRequest, ParticipantOperation, ServerFrame};
use crate::store::backoff;
use crate::store::{MemberChange, Membership};
use crate::time::now_millis;

const MAX_ATTEMPTS: usize = 12;

pub async fn modify_participants(
    ctx: &AppContext,
    who: &Identity,
    request: ModifyChatParticipantsRequest,
) -> Result<ServerFrame, AppError> {
    check_chat_id(&request.chat_id)?;
    check_id("userId", &request.user_id)?;
    let target = request.user_id.as_str();
    for attempt in 0..MAX_ATTEMPTS {
        let chat = ctx.store.get_chat(&request.chat_id).await?;
        let chat = chat.filter(|c| c.is_member(&who.user_id)).ok_or(AppError::NotMember)?;
        if chat.kind == ChatKind::Direct {
            return Err(AppError::invalid("a 1-1 chat cannot gain or lose members"));
        }
        let mut members = chat.members.clone();
        let mut admins = chat.admins.clone();
        let change = match request.operation {
            ParticipantOperation::Add => {
                if !chat.is_admin(&who.user_id) {
                    return Err(AppError::Forbidden("only admins can add members".into()));
                }
                if chat.is_member(target) {
                    return Err(AppError::invalid(format!("{target} is already a member")));
                }
                let max = ctx.config.max_group_members;
                if members.len() >= max {
                    return Err(AppError::TooManyMembers { max });
                }
                if attempt == 0 && !super::blocking::blockers_of(ctx, &[target.to_owned()], &who.user_id).await?.is_empty() {
                    return Err(AppError::Blocked(format!("{target} cannot be added by you")));
                }
                members.push(target.to_owned());
                members.sort();
                let previous = ctx.store.membership(target, &chat.chat_id).await?;
                let joined = Membership::rejoined(previous, target, &chat.chat_id, chat.seq);
                // Added by someone they never accepted: an invitation, not a membership they chose.
                let known = ctx.store.who_accepted(&[target.to_owned()], &who.user_id).await?;
                MemberChange::Join(if known.is_empty() { joined.requested_by(&who.user_id) } else { joined })
            }
            ParticipantOperation::Remove => {
                if target != who.user_id && !chat.is_admin(&who.user_id) {
                    return Err(AppError::Forbidden("only admins can remove others; anyone can leave".into()));
                }
                if !chat.is_member(target) {
                    return Err(AppError::invalid(format!("{target} is not a member")));
                }
                members.retain(|m| m != target);
                admins.retain(|a| a != target);
                if admins.is_empty() {
                    admins.extend(members.first().cloned());
                }
                MemberChange::Leave { user_id: target.to_owned(), at_ms: now_millis() }
            }
        };
        // Conditioned on the chat's version and seq as read: concurrent changes
        // serialise (99 members + two ADDs = one succeeds, one is refused).
        if !ctx.store.change_members(&chat, &members, &admins, change).await? {
            backoff(attempt).await;
            continue;
        }
        let version = chat.version + 1;
        let update = ServerFrame::ChatUpdate {
            event_id: new_event_id(),
            chat_id: chat.chat_id.clone(),
            operation: request.operation,
            user_id: target.to_owned(),
            by: who.user_id.clone(),
            participants: members.clone(),
            admins: admins.clone(),
            version,
            seq: chat.seq,
        };
        let mut everyone = members.clone();
        if request.operation == ParticipantOperation::Remove {
            everyone.push(target.to_owned());
        }
        let out = Outgoing::event(&chat.chat_id, chat.seq, &update);
        publish(ctx, &[(&Audience { users: everyone, except: Some(who) }, &out)]).await?;
        return Ok(ServerFrame::ParticipantsModified { chat_id: chat.chat_id, participants: members, admins, version, seq: chat.seq });
    }
    Err(AppError::Contention)
}
