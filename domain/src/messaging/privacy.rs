//! Privacy settings (`setPrivacy`): who sees a user online and their last
//! seen — everyone they share an accepted chat with, only people they
//! accepted (contacts), or nobody — and whether they send read receipts.
//! Read receipts are reciprocal, as WhatsApp's: turned off, the user sends
//! none and sees none. Stored on the user's item, which every presence read
//! (`devices_of`) already fetches.

use std::collections::{BTreeSet, HashMap};

use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::model::{PresenceAudience, Privacy};
use crate::protocol::{PresenceVisibility, ServerFrame, SetPrivacyRequest};

pub async fn set_privacy(ctx: &AppContext, who: &Identity, request: SetPrivacyRequest) -> Result<ServerFrame, AppError> {
    let mut privacy = ctx.store.privacy_of(&[who.user_id.to_string()]).await?.remove(who.user_id.as_str()).unwrap_or_default();
    let before = privacy;
    if let Some(presence) = request.presence {
        privacy.presence = match presence {
            PresenceVisibility::Everyone => PresenceAudience::Everyone,
            PresenceVisibility::Contacts => PresenceAudience::Contacts,
            PresenceVisibility::Nobody => PresenceAudience::Nobody,
        };
    }
    if let Some(read_receipts) = request.read_receipts {
        privacy.read_receipts = read_receipts;
    }
    if privacy != before {
        ctx.store.set_privacy(&who.user_id, privacy).await?;
    }
    Ok(frame(privacy))
}

fn frame(privacy: Privacy) -> ServerFrame {
    ServerFrame::Privacy {
        presence: match privacy.presence {
            PresenceAudience::Everyone => PresenceVisibility::Everyone,
            PresenceAudience::Contacts => PresenceVisibility::Contacts,
            PresenceAudience::Nobody => PresenceVisibility::Nobody,
        },
        read_receipts: privacy.read_receipts,
    }
}

/// Whether `user` sends and sees read receipts (the default for users without settings).
pub(crate) fn read_receipts_on(settings: &HashMap<String, Privacy>, user: &str) -> bool {
    settings.get(user).is_none_or(|p| p.read_receipts)
}

/// Which of `users` (with their settings) hide their presence from `viewer`:
/// one Contacts BatchGetItem when any shows it to contacts only.
pub(crate) async fn hiding_presence_from(
    ctx: &AppContext,
    viewer: &str,
    users: &HashMap<String, Privacy>,
) -> Result<BTreeSet<String>, AppError> {
    let mut hidden: BTreeSet<String> = users
        .iter()
        .filter(|(user, p)| p.presence == PresenceAudience::Nobody && user.as_str() != viewer)
        .map(|(user, _)| user.clone())
        .collect();
    let contacts_only: Vec<String> = users
        .iter()
        .filter(|(user, p)| p.presence == PresenceAudience::Contacts && user.as_str() != viewer)
        .map(|(u, _)| u.clone())
        .collect();
    if !contacts_only.is_empty() {
        let accepted = ctx.store.who_accepted(&contacts_only, viewer).await?;
        hidden.extend(contacts_only.into_iter().filter(|u| !accepted.contains(u)));
    }
    Ok(hidden)
}
