//! The stored item format of every table, pinned. Messages are kept for ever
//! and inbox entries for 30 days, so a renamed field or a changed encoding
//! would leave items already written unreadable. `item_formats.json` holds one
//! item per table exactly as DynamoDB stores it (DynamoDB JSON), as written on
//! 2026-11-23; each must still read as the same value, and today's writer must
//! still produce it. A deliberate format change adds a new pinned item and
//! keeps the old one reading (through `#[serde(default)]`, an alias, or a
//! conversion), never edits the old one.

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use domain::model::chats::CounterItem;
use domain::model::memberships::EarlierMembership;
use domain::model::messages::{AttachmentRef, ChangeItem, DeletionItem, HoleItem, MessageItem, QuoteItem, ReactionItem, VersionItem};
use domain::model::one_time_keys::OneTimeKeyItem;
use domain::model::*;
use domain::protocol::ChatKind;

fn pinned() -> BTreeMap<String, Value> {
    serde_json::from_str(include_str!("item_formats.json")).expect("item_formats.json is JSON")
}

/// A message's fields that only changes set, as a message never changed has them.
fn unchanged() -> MessageItem {
    MessageItem {
        chat_id: String::new(),
        message_id: String::new(),
        seq: 0,
        sender_id: String::new(),
        sender_device: String::new(),
        client_message_id: String::new(),
        message: String::new(),
        encrypted: false,
        attachments: vec![],
        mentions: vec![],
        sent_at: 0,
        reply_to: None,
        events: 0,
        edited_at: None,
        versions: vec![],
        reactions: BTreeMap::new(),
        deleted: None,
        updated_seq: None,
    }
}

/// `value` is what the pinned item `name` holds.
fn holds<T: Serialize + DeserializeOwned + PartialEq + Debug>(pinned: &BTreeMap<String, Value>, name: &str, value: T) {
    let stored = pinned.get(name).unwrap_or_else(|| panic!("no pinned item {name}"));
    let item: serde_dynamo::Item = serde_json::from_value(stored.clone()).expect("DynamoDB JSON");
    let read: T = serde_dynamo::from_item(item).unwrap_or_else(|e| panic!("{name}: an item written on 2026-11-23 no longer reads: {e}"));
    assert_eq!(read, value, "{name}: the pinned item reads as another value");
    let written: serde_dynamo::Item = serde_dynamo::to_item(&value).expect("writes");
    assert_eq!(&serde_json::to_value(&written).expect("JSON"), stored, "{name}: today's writer stores another format");
}

#[test]
fn every_table_reads_and_writes_its_pinned_item() {
    let p = pinned();
    holds(
        &p,
        "Messages",
        MessageItem {
            chat_id: "c1".into(),
            message_id: "01JMSG".into(),
            seq: 7,
            sender_id: "alice".into(),
            sender_device: "phone".into(),
            client_message_id: "m-7".into(),
            message: "hi @bob".into(),
            encrypted: false,
            attachments: vec![AttachmentRef {
                attachment_id: "01JATT".into(),
                file_name: "a.png".into(),
                content_type: "image/png".into(),
                size: 2048,
                sha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into(),
            }],
            mentions: vec!["bob".into()],
            sent_at: 1_795_400_000_000,
            reply_to: None,
            ..unchanged()
        },
    );
    // Replies (2026-11-24): the quoted message rides along.
    holds(
        &p,
        "Messages (a reply)",
        MessageItem {
            chat_id: "c1".into(),
            message_id: "01JMSH".into(),
            seq: 8,
            sender_id: "bob".into(),
            sender_device: "laptop".into(),
            client_message_id: "m-8".into(),
            message: "yes".into(),
            encrypted: false,
            attachments: vec![],
            mentions: vec![],
            sent_at: 1_795_400_001_000,
            reply_to: Some(QuoteItem {
                seq: 7,
                message_id: "01JMSG".into(),
                sender_id: "alice".into(),
                snippet: "hi @bob".into(),
                attachment_count: 1,
            }),
            ..unchanged()
        },
    );
    // Edits, deletions and reactions (2026-12-01): the message as it is now,
    // with the texts it had and who reacted when; each change at its own seq.
    holds(
        &p,
        "Messages (edited, reacted)",
        MessageItem {
            chat_id: "c1".into(),
            message_id: "01JMSI".into(),
            seq: 9,
            sender_id: "alice".into(),
            sender_device: "phone".into(),
            client_message_id: "m-9".into(),
            message: "see you at 8".into(),
            encrypted: false,
            attachments: vec![],
            mentions: vec![],
            sent_at: 1_795_400_002_000,
            reply_to: None,
            events: 1,
            edited_at: Some(1_795_400_003_000),
            versions: vec![VersionItem { message: "see you at 7".into(), edited_at: None, replaced_at_seq: 10 }],
            reactions: BTreeMap::from([("bob".to_owned(), ReactionItem { emoji: "👍".into(), seq: 11, at: 1_795_400_004_000 })]),
            deleted: None,
            updated_seq: Some(11),
        },
    );
    holds(
        &p,
        "Messages (deleted for everyone)",
        MessageItem {
            chat_id: "c1".into(),
            message_id: "01JMSJ".into(),
            seq: 12,
            sender_id: "bob".into(),
            sender_device: "laptop".into(),
            client_message_id: "m-12".into(),
            message: "".into(),
            encrypted: false,
            attachments: vec![],
            mentions: vec![],
            sent_at: 1_795_400_005_000,
            reply_to: None,
            events: 3,
            deleted: Some(DeletionItem { by: "bob".into(), at: 1_795_400_006_000, seq: 13 }),
            updated_seq: Some(13),
            ..unchanged()
        },
    );
    holds(
        &p,
        "Messages (a change)",
        ChangeItem {
            chat_id: "c1".into(),
            seq: 11,
            kind: "reaction".into(),
            event_id: "01JEVT".into(),
            target_seq: 9,
            target_message_id: "01JMSI".into(),
            target_sender_id: "alice".into(),
            user_id: "bob".into(),
            at: 1_795_400_004_000,
            message: None,
            emoji: Some("👍".into()),
            events: 2,
            last_message_seq: 9,
        },
    );
    holds(
        &p,
        "Chats (its counter)",
        CounterItem {
            chat_id: "g-01JGRP#seq".into(),
            seq: 13,
            version: 3,
            events: 2,
            last_message_seq: 12,
            last_active_at: 1_795_400_005_000,
            taken_at: 1_795_400_006_000,
            holes: vec![5],
        },
    );
    holds(
        &p,
        "Messages (a hole)",
        HoleItem { chat_id: "c1".into(), seq: 5, kind: "hole".into(), events: 2, message: true, filled_at: 1_795_400_030_000 },
    );
    holds(
        &p,
        "ClientMessageIds (claimed before its message)",
        Accepted {
            chat_id: "c1".into(),
            client_key: "alice#m-8".into(),
            message_id: "01JMSH".into(),
            seq: 8,
            expires_at: 1_795_486_400,
            inbox_written: false,
            events: Some(2),
        },
    );
    holds(
        &p,
        "ClientMessageIds",
        Accepted {
            chat_id: "c1".into(),
            client_key: "alice#m-7".into(),
            message_id: "01JMSG".into(),
            seq: 7,
            expires_at: 1_795_486_400,
            inbox_written: true,
            events: None,
        },
    );
    holds(
        &p,
        "Chats",
        Chat {
            chat_id: "c1".into(),
            kind: ChatKind::Group,
            name: Some("team".into()),
            description: None,
            members: vec!["alice".into(), "bob".into()],
            admins: vec!["alice".into()],
            created_by: "alice".into(),
            created_at: 1_795_300_000_000,
            seq: 7,
            version: 3,
            last_active_at: 1_795_400_000_000,
            // (Written before message requests: no requested set, read as empty.)
            requested: vec![],
            blocked_by: vec![],
            events: 0,
            last_message_seq: None,
            last_join_seq: None,
            encrypted: false,
            holes: vec![],
            taken_at: None,
        },
    );
    holds(
        &p,
        "Chats (with changes)",
        Chat {
            chat_id: "c3".into(),
            kind: ChatKind::Group,
            name: Some("team".into()),
            description: None,
            members: vec!["alice".into(), "bob".into()],
            admins: vec!["alice".into()],
            created_by: "alice".into(),
            created_at: 1_795_300_000_000,
            seq: 13,
            version: 2,
            last_active_at: 1_795_400_005_000,
            requested: vec![],
            blocked_by: vec![],
            events: 4,
            last_message_seq: Some(12),
            last_join_seq: Some(3),
            encrypted: false,
            holes: vec![],
            taken_at: None,
        },
    );
    // Blocking and group descriptions (2026-11-24).
    holds(
        &p,
        "Chats (1-1, blocked)",
        Chat {
            chat_id: "dm-alice-bob".into(),
            kind: ChatKind::Direct,
            name: None,
            description: None,
            members: vec!["alice".into(), "bob".into()],
            admins: vec![],
            created_by: "alice".into(),
            created_at: 1_795_300_000_000,
            seq: 2,
            version: 1,
            last_active_at: 1_795_400_000_000,
            requested: vec![],
            blocked_by: vec!["bob".into()],
            events: 0,
            last_message_seq: None,
            last_join_seq: None,
            encrypted: false,
            holes: vec![],
            taken_at: None,
        },
    );
    holds(
        &p,
        "Chats (a group with a description)",
        Chat {
            chat_id: "c2".into(),
            kind: ChatKind::Group,
            name: Some("trip".into()),
            description: Some("Lisbon\nin May".into()),
            members: vec!["alice".into(), "bob".into()],
            admins: vec!["alice".into(), "bob".into()],
            created_by: "alice".into(),
            created_at: 1_795_300_000_000,
            seq: 0,
            version: 2,
            last_active_at: 1_795_300_000_000,
            requested: vec![],
            blocked_by: vec![],
            events: 0,
            last_message_seq: None,
            last_join_seq: None,
            encrypted: false,
            holes: vec![],
            taken_at: None,
        },
    );
    holds(
        &p,
        "Memberships",
        Membership {
            user_id: "bob".into(),
            chat_id: "c1".into(),
            joined_at_seq: 2,
            last_read: 5,
            last_delivered: 6,
            mentions: vec![7],
            removed_at_seq: Some(7),
            muted: true,
            removed_at: Some(1_795_400_000_001),
            members_at_removal: Some(vec!["alice".into(), "bob".into()]),
            admins_at_removal: Some(vec!["alice".into()]),
            info_at_removal: None,
            earlier: vec![EarlierMembership { joined_at_seq: 0, removed_at_seq: 1 }],
            request: false,
            invited_by: None,
            read_events: 0,
            removed_events: 0,
            hidden: vec![],
            cleared_through: 0,
        },
    );
    holds(
        &p,
        "Memberships (changes read, messages hidden)",
        Membership {
            user_id: "bob".into(),
            chat_id: "c3".into(),
            joined_at_seq: 3,
            last_read: 11,
            read_events: 2,
            last_delivered: 12,
            hidden: vec![9],
            ..Default::default()
        },
    );
    holds(
        &p,
        "Memberships (chat deleted for the member)",
        Membership {
            user_id: "bob".into(),
            chat_id: "d-alice-bob".into(),
            last_read: 14,
            read_events: 3,
            last_delivered: 14,
            cleared_through: 14,
            request: true,
            ..Default::default()
        },
    );
    holds(&p, "Contacts", Contact { user_id: "bob".into(), contact_id: "alice".into(), since: 1_795_300_000_000 });
    holds(
        &p,
        "Inbox",
        InboxEntry {
            device_key: "bob#phone".into(),
            entry_id: "c1#00000000000000000007".into(),
            chat_id: "c1".into(),
            seq: 7,
            kind: EntryKind::NewMessage,
            sender_id: Some("alice".into()),
            frame: r#"{"type":"newMessage","chatId":"c1","seq":7}"#.into(),
            expires_at: 1_797_992_000,
            discarded: false,
        },
    );
    holds(
        &p,
        "Connections",
        ConnectionRecord {
            connection_id: "L0SM9cOFvHcCIhw=".into(),
            user_id: "bob".into(),
            device_id: "phone".into(),
            connected_at: 1_795_400_000_000,
            expires_at: 1_795_410_800,
            connect_bucket: "498722#5".into(),
            last_heartbeat_at: 1_795_400_060_000,
            heartbeat_bucket: "2#498722".into(),
        },
    );
    holds(
        &p,
        "Users",
        UserDevices {
            user_id: "bob".into(),
            devices: BTreeMap::from([(
                "phone".to_owned(),
                Device {
                    connection_id: Some("L0SM9cOFvHcCIhw=".into()),
                    connected_at: Some(1_795_400_000_000),
                    registered_at: 1_795_300_000_000,
                    push: Some(PushEndpoint {
                        platform: domain::protocol::PushPlatform::Gcm,
                        endpoint_arn: "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/1".into(),
                    }),
                    last_push_at: Some(1_795_400_000_500),
                    keys: None,
                    fallback_key: None,
                },
            )]),
            last_seen: Some(1_795_400_000_000),
            revocations: vec!["tablet@1795300000".into()],
            privacy: Default::default(),
        },
    );
    // End-to-end encryption (2026-12-03): a device's identity and fallback
    // keys on its entry, an encrypted chat and its envelope messages, and the
    // one-time keys table.
    holds(
        &p,
        "Users (device keys)",
        UserDevices {
            user_id: "erin".into(),
            devices: BTreeMap::from([(
                "laptop".to_owned(),
                Device {
                    registered_at: 1_795_500_000_000,
                    keys: Some(StoredIdentityKeys {
                        curve25519: "QmFzZTY0Q3VydmUyNTUxOUtleU9mRXJpbnNMYXB0b3A".into(),
                        ed25519: "QmFzZTY0RWQyNTUxOUtleU9mRXJpbnNMYXB0b3BYWFg".into(),
                    }),
                    fallback_key: Some(OneTimeKey { key_id: "AAAAAQ".into(), key: "RmFsbGJhY2tLZXlPZkVyaW5zTGFwdG9wWFhYWFhYWFg".into() }),
                    ..Default::default()
                },
            )]),
            ..Default::default()
        },
    );
    holds(
        &p,
        "Messages (encrypted)",
        MessageItem {
            chat_id: "g-e2ee".into(),
            message_id: "01JENC".into(),
            seq: 2,
            sender_id: "erin".into(),
            sender_device: "laptop".into(),
            client_message_id: "e-2".into(),
            message: "megolm.v1:c2Vzc2lvbklk:Y2lwaGVydGV4dA".into(),
            encrypted: true,
            mentions: vec!["bob".into()],
            sent_at: 1_795_500_000_100,
            ..unchanged()
        },
    );
    holds(
        &p,
        "Chats (encrypted)",
        Chat {
            chat_id: "g-e2ee".into(),
            kind: ChatKind::Group,
            name: Some("secret".into()),
            description: None,
            members: vec!["bob".into(), "erin".into()],
            admins: vec!["erin".into()],
            created_by: "erin".into(),
            created_at: 1_795_500_000_000,
            seq: 0,
            version: 1,
            last_active_at: 1_795_500_000_000,
            requested: vec![],
            blocked_by: vec![],
            events: 0,
            last_message_seq: Some(0),
            last_join_seq: Some(0),
            encrypted: true,
            holes: vec![],
            taken_at: None,
        },
    );
    holds(
        &p,
        "OneTimeKeys",
        OneTimeKeyItem {
            device_key: "erin#laptop".into(),
            key_id: "AAAAAg".into(),
            key: "T25lVGltZUtleU9mRXJpbnNMYXB0b3BYWFhYWFhYWFg".into(),
        },
    );
    // Profiles (2026-11-24): read apart from the devices (`profiles_of`).
    {
        let stored = p.get("Users (profile set)").expect("pinned");
        let item: serde_dynamo::Item = serde_json::from_value(stored.clone()).expect("DynamoDB JSON");
        let user: UserDevices = serde_dynamo::from_item(item).expect("a user with a profile still reads as a user");
        assert_eq!(user.user_id, "dave");
        let profile = Profile { display_name: Some("Dave D.".into()), about: Some("out hiking".into()), avatar: None };
        let written: serde_dynamo::Item = serde_dynamo::to_item(&profile).expect("writes");
        assert_eq!(&serde_json::to_value(&written).expect("JSON"), &stored["profile"]["M"], "today's writer stores the profile so");
    }
    // Avatars (2026-12-01): the picture's attachment, copied into the profile.
    holds(
        &p,
        "Users profile (avatar set)",
        Profile {
            display_name: Some("Erin".into()),
            about: None,
            avatar: Some(Avatar {
                attachment_id: "01JAVA".into(),
                content_type: "image/jpeg".into(),
                size: 40_960,
                sha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into(),
            }),
        },
    );
    // Privacy settings (2026-11-24).
    holds(
        &p,
        "Users (privacy set)",
        UserDevices {
            user_id: "carol".into(),
            privacy: Privacy { presence: PresenceAudience::Contacts, read_receipts: false },
            ..Default::default()
        },
    );
    holds(
        &p,
        "PresenceSubscriptions",
        PresenceSubscription {
            user_id: "bob".into(),
            watcher_key: "alice#phone".into(),
            connection_id: "L0SM9cOFvHcCIhw=".into(),
            subscriber_id: "alice".into(),
            expires_at: 1_795_410_800,
        },
    );
    holds(
        &p,
        "Attachments",
        Attachment {
            attachment_id: "01JATT".into(),
            chat_id: "c1".into(),
            uploader_id: "alice".into(),
            file_name: "a.png".into(),
            content_type: "image/png".into(),
            size: 2048,
            sha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into(),
            created_at: 1_795_399_000_000,
            sent_seq: Some(7),
            sent_seqs: vec![7, 9],
            expires_at: None,
            expiry_bucket: None,
            deleted_at: None,
        },
    );
    holds(
        &p,
        "Attachments (its message deleted for everyone)",
        Attachment {
            attachment_id: "01JATU".into(),
            chat_id: "c1".into(),
            uploader_id: "bob".into(),
            file_name: "b.png".into(),
            content_type: "image/png".into(),
            size: 1024,
            sha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into(),
            created_at: 1_795_399_000_000,
            sent_seq: None,
            sent_seqs: vec![],
            expires_at: Some(1_795_400_006),
            expiry_bucket: Some("20775#1".into()),
            deleted_at: Some(1_795_400_006_000),
        },
    );
}

#[test]
fn items_written_before_later_fields_existed_still_read() {
    let p = pinned();
    let old: Accepted =
        serde_dynamo::from_item(serde_json::from_value::<serde_dynamo::Item>(p["ClientMessageIds before inboxWritten"].clone()).unwrap())
            .expect("an idempotency record from before inboxWritten reads");
    assert!(old.inbox_written, "its entries were written in the send transaction");
    let old: Membership = serde_dynamo::from_item(serde_json::from_value::<serde_dynamo::Item>(p["Memberships minimal"].clone()).unwrap())
        .expect("a membership with only its keys reads");
    assert_eq!((old.joined_at_seq, old.last_read, old.muted, old.earlier.len()), (0, 0, false, 0));
    // An inbox entry of a kind a newer version introduced still reads (and is
    // delivered as a plain event) in the middle of a deployment.
    let mut newer = p["Inbox"].clone();
    newer["kind"] = serde_json::json!({ "S": "someNewKind" });
    let entry: InboxEntry = serde_dynamo::from_item(serde_json::from_value::<serde_dynamo::Item>(newer).unwrap()).expect("reads");
    assert_eq!(entry.kind, EntryKind::Event);
}
