//! `modifyChatParticipants` and `updateChat`: a group's members, admins, name
//! and description.
//!
//! Who may change a group: admins add and remove members (the creator is the
//! first admin), make members admins and admins members again (a group keeps
//! at least one), and set its name and description; any member may remove
//! themselves (leave). When the last admin leaves, the remaining member with
//! the smallest id becomes admin. 1-1 chats never change.

use super::{Audience, Outgoing, new_event_id, publish};
use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::limits::Limit;
use crate::model::backoff;
use crate::model::{MemberChange, Membership};
use crate::protocol::{ChatKind, ModifyChatParticipantsRequest, ParticipantOperation, ServerFrame, UpdateChatRequest};
use crate::time::now_millis;

const MAX_ATTEMPTS: usize = 12;
/// A group description's length, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 512;

/// An admin sets a group's name and/or description; every member's devices
/// get a `chatInfo` event (live, or on `sync`).
pub async fn update_chat(ctx: &AppContext, who: &Identity, request: UpdateChatRequest) -> Result<ServerFrame, AppError> {
    let name = request.name.map(|n| n.trim().to_owned());
    if let Some(name) = &name {
        crate::text::check_name("name", name, super::MAX_CHAT_NAME_CHARS)?;
    }
    let description = request.description.map(|d| d.trim().to_owned());
    if let Some(description) = description.as_deref().filter(|d| !d.is_empty()) {
        // Line breaks are part of a description; other control characters are not.
        let printable: String = description.chars().filter(|c| *c != '\n').collect();
        if description.chars().count() > MAX_DESCRIPTION_CHARS
            || (!printable.is_empty() && !printable.chars().all(crate::text::allowed_in_name))
        {
            return Err(AppError::invalid(format!(
                "description must be at most {MAX_DESCRIPTION_CHARS} characters, without control or bidirectional control characters"
            )));
        }
    }
    if name.is_none() && description.is_none() {
        return Err(AppError::invalid("give a name, a description or both"));
    }
    // Before any read: each change is posted to every member's devices.
    ctx.charge(Limit::ChatUpdates, &who.user_id, 1).await?;
    let chat = ctx.store.get_chat(&request.chat_id).await?;
    let chat = chat.filter(|c| c.is_member(&who.user_id)).ok_or(AppError::NotMember)?;
    if chat.kind == ChatKind::Direct {
        return Err(AppError::invalid("a 1-1 chat has no name or description"));
    }
    if !chat.is_admin(&who.user_id) {
        return Err(AppError::Forbidden("only admins can change a group's name and description".into()));
    }
    ctx.store.set_chat_info(&chat.chat_id, name.as_deref(), description.as_deref()).await?;
    let info = ServerFrame::ChatInfo {
        event_id: new_event_id(),
        chat_id: chat.chat_id.clone(),
        name: name.or(chat.name),
        description: match description {
            Some(d) if d.is_empty() => None,
            Some(d) => Some(d),
            None => chat.description,
        },
        by: who.user_id.to_string(),
    };
    let out = Outgoing::event(&chat.chat_id, chat.seq, &info);
    publish(ctx, &[(&Audience { users: chat.members.clone(), except: Some(who) }, &out)]).await?;
    Ok(info)
}

pub async fn modify_participants(
    ctx: &AppContext,
    who: &Identity,
    request: ModifyChatParticipantsRequest,
) -> Result<ServerFrame, AppError> {
    let target = request.user_id.as_str();
    ctx.charge(Limit::ChatUpdates, &who.user_id, 1).await?;
    let mut invitation_charged = false;
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
                if attempt == 0 {
                    super::require_registered(ctx, &[target.to_owned()]).await?;
                }
                if attempt == 0 && !super::blocking::blockers_of(ctx, &[target.to_owned()], &who.user_id).await?.is_empty() {
                    return Err(AppError::Blocked(format!("{target} cannot be added by you")));
                }
                members.push(target.to_owned());
                members.sort();
                let previous = ctx.store.membership(target, &chat.chat_id).await?;
                let joined = Membership::rejoined(previous, target, &chat.chat_id, chat.seq, chat.events);
                // Added by someone they never accepted: an invitation, not a membership they chose.
                let known = ctx.store.who_accepted(&[target.to_owned()], &who.user_id).await?;
                if known.is_empty() && !invitation_charged {
                    // Inviting someone costs what starting a chat with them
                    // does: removing and adding again is no way round that limit.
                    ctx.charge(Limit::ChatsCreated, &who.user_id, 1).await?;
                    invitation_charged = true;
                }
                MemberChange::Join(if known.is_empty() { joined.requested_by(&who.user_id) } else { joined })
            }
            ParticipantOperation::Remove => {
                if who.user_id != target && !chat.is_admin(&who.user_id) {
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
            ParticipantOperation::Promote => {
                if !chat.is_admin(&who.user_id) {
                    return Err(AppError::Forbidden("only admins can make admins".into()));
                }
                if !chat.is_member(target) || chat.is_admin(target) {
                    return Err(AppError::invalid(format!("{target} is not a member who is not an admin")));
                }
                admins.push(target.to_owned());
                admins.sort();
                MemberChange::Admins
            }
            ParticipantOperation::Demote => {
                // An admin may step down; only admins demote others.
                if !chat.is_admin(&who.user_id) {
                    return Err(AppError::Forbidden("only admins can demote admins".into()));
                }
                if !chat.is_admin(target) {
                    return Err(AppError::invalid(format!("{target} is not an admin")));
                }
                if admins.len() == 1 {
                    return Err(AppError::invalid("a group keeps at least one admin: make another admin first"));
                }
                admins.retain(|a| a != target);
                MemberChange::Admins
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
            by: who.user_id.to_string(),
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
