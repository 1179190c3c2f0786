//! Profiles: a display name, an "about" line and an avatar, set by their owner
//! (`updateProfile`), shown to the people who may see the user — on
//! `GET /users/{id}` and as a 1-1 chat's `peerName` and `peerAvatar` in chat lists — and to
//! no one a message request or a block hides them from.

use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::model::Avatar;
use crate::protocol::{AvatarView, ChatSummary, ServerFrame, UpdateProfileRequest};
use crate::text::{allowed_in_name, check_name};

pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// As WhatsApp's "about".
pub const MAX_ABOUT_CHARS: usize = 139;

pub async fn update_profile(ctx: &AppContext, who: &Identity, request: UpdateProfileRequest) -> Result<ServerFrame, AppError> {
    let display_name = request.display_name.map(|n| n.trim().to_owned());
    if let Some(name) = &display_name {
        check_name("displayName", name, MAX_DISPLAY_NAME_CHARS)?;
    }
    let about = request.about.map(|a| a.trim().to_owned());
    if let Some(about) = &about
        && (about.chars().count() > MAX_ABOUT_CHARS || !about.chars().all(allowed_in_name))
    {
        return Err(AppError::invalid(format!(
            "about must be at most {MAX_ABOUT_CHARS} characters, without control or bidirectional control characters"
        )));
    }
    let mut profile = ctx.store.profiles_of(&[who.user_id.to_string()]).await?.remove(who.user_id.as_str()).unwrap_or_default();
    let before = profile.clone();
    if display_name.is_some() {
        profile.display_name = display_name;
    }
    if let Some(about) = about {
        profile.about = (!about.is_empty()).then_some(about);
    }
    match request.avatar.as_deref() {
        Some("") => profile.avatar = None,
        Some(id) if before.avatar.as_ref().is_none_or(|a| a.attachment_id != id) => {
            profile.avatar = Some(crate::media::take_avatar(ctx, who, id).await?);
        }
        _ => {}
    }
    if profile != before {
        ctx.store.set_profile(&who.user_id, &profile).await?;
        if let Some(old) = before.avatar.filter(|old| profile.avatar.as_ref() != Some(old)) {
            crate::media::discard_avatar(ctx, &old.attachment_id).await?;
        }
    }
    Ok(ServerFrame::Profile {
        user_id: who.user_id.to_string(),
        display_name: profile.display_name,
        about: profile.about,
        avatar: profile.avatar.as_ref().map(avatar_view),
    })
}

pub fn avatar_view(avatar: &Avatar) -> AvatarView {
    AvatarView {
        attachment_id: avatar.attachment_id.clone(),
        content_type: avatar.content_type.clone(),
        size: avatar.size,
        sha256: avatar.sha256.clone(),
    }
}

/// Fills in the 1-1 chats' `peerName` (one BatchGetItem per 100 peers).
pub async fn add_peer_names(ctx: &AppContext, chats: &mut [ChatSummary]) -> Result<(), AppError> {
    let peers: Vec<String> = chats.iter().filter_map(|c| c.peer.clone()).collect();
    if peers.is_empty() {
        return Ok(());
    }
    let profiles = ctx.store.profiles_of(&peers).await?;
    for chat in chats.iter_mut() {
        let profile = chat.peer.as_ref().and_then(|p| profiles.get(p));
        chat.peer_name = profile.and_then(|p| p.display_name.clone());
        chat.peer_avatar = profile.and_then(|p| p.avatar.as_ref()).map(|a| a.attachment_id.clone());
    }
    Ok(())
}
