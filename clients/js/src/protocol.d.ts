/* Generated from docs/protocol.schema.json (itself generated from domain/src/protocol) by scripts/contract: do not edit. */

/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "AttachmentId".
 */
export type AttachmentId = string;
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ChatKind".
 */
export type ChatKind = "direct" | "group";
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ChatId".
 */
export type ChatId = string;
/**
 * A request frame as a client writes it: the route's fields, its `action`,
 * and the envelope's `requestId`.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ClientFrame".
 */
export type ClientFrame =
  | {
      action: "createChat";
      /**
       * End-to-end encrypted (docs/e2ee.md): every text in the chat is an
       * envelope the server cannot read. Fixed at creation.
       */
      encrypted?: boolean;
      name?: string | null;
      /**
       * Other members (the caller is always a member). One other and no name: a 1-1 chat.
       */
      participants: UserId[];
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "sendMessage";
      attachments?: AttachmentId[];
      chatId: ChatId;
      /**
       * Chosen by the client, unique per message; a retry reuses it.
       */
      clientMessageId: string;
      /**
       * Encrypted chats: the `digest` of `getDeviceKeys` the sender shared its
       * session with. A digest the chat's devices no longer have is refused
       * (`devices_changed`), so no device is left out without the sender knowing.
       */
      devices?: string | null;
      /**
       * Encrypted chats: the members this message mentions (the server cannot
       * read `@userId` in the text there, so the client names them).
       */
      mentions?: UserId[];
      message: string;
      /**
       * The `seq` of a message of the same chat this one replies to (quotes).
       */
      replyTo?: number | null;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "ack";
      eventIds?: string[];
      messageId?: string | null;
      messageIds?: string[];
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "sync";
      /**
       * `cursor` from the previous `synced` reply, to continue a large inbox.
       */
      cursor?: string | null;
      limit?: number | null;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "modifyChatParticipants";
      chatId: ChatId;
      operation: ParticipantOperation;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
      userId: UserId;
    }
  | {
      action: "markRead";
      chatId: ChatId;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
      upToSeq: number;
    }
  | {
      action: "listChats";
      /**
       * `nextCursor` from the previous `chats` reply, for the next page.
       */
      cursor?: string | null;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "unregisterDevice";
      /**
       * Another device of the caller (a lost phone); this device when absent.
       */
      deviceId?: DeviceId | null;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "listDevices";
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "messageStatus";
      chatId: ChatId;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
      seq: number;
    }
  | {
      action: "registerPush";
      /**
       * `APNS` or `GCM` (the platforms this deployment has an SNS platform application for).
       */
      platform: string;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
      token: string;
    }
  | {
      action: "unregisterPush";
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "muteChat";
      chatId: ChatId;
      muted: boolean;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "deleteChat";
      chatId: ChatId;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "typing";
      chatId: ChatId;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
      typing: boolean;
    }
  | {
      action: "blockUser";
      blocked: boolean;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
      userId: UserId;
    }
  | {
      action: "listBlocked";
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "editMessage";
      chatId: ChatId;
      message: string;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
      seq: number;
    }
  | {
      action: "deleteMessage";
      chatId: ChatId;
      forEveryone: boolean;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
      seq: number;
    }
  | {
      action: "react";
      chatId: ChatId;
      emoji?: string | null;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
      seq: number;
    }
  | {
      action: "updateChat";
      chatId: ChatId;
      description?: string | null;
      name?: string | null;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "setPrivacy";
      presence?: PresenceVisibility | null;
      readReceipts?: boolean | null;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      about?: string | null;
      action: "updateProfile";
      /**
       * An upload from `POST /users/me/avatar` (an empty string removes the avatar).
       */
      avatar?: string | null;
      displayName?: string | null;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "acceptChat";
      chatId: ChatId;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "heartbeat";
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "subscribePresence";
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
      userIds: UserId[];
    }
  | {
      action: "uploadKeys";
      /**
       * Handed out when the one-time keys run out; replaces the previous one.
       */
      fallbackKey?: OneTimeKeyView | null;
      /**
       * Set once per device: a device whose keys are lost registers anew.
       */
      identityKeys?: IdentityKeys | null;
      oneTimeKeys?: OneTimeKeyView[];
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "getDeviceKeys";
      chatId: ChatId;
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "claimKeys";
      /**
       * A chat the caller and every named device's user are members of (the
       * caller's own devices may be named with any chat of theirs).
       */
      chatId: string;
      devices: DeviceRef[];
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    }
  | {
      action: "sendToDevice";
      /**
       * A chat the caller and every recipient's user are members of (or the
       * caller's own other devices).
       */
      chatId: string;
      messages: ToDeviceMessage[];
      /**
       * Echoed by the reply to this frame (a string of at most 128 characters).
       */
      requestId?: string | null;
    };
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "UserId".
 */
export type UserId = string;
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ParticipantOperation".
 */
export type ParticipantOperation = ("ADD" | "REMOVE") | "PROMOTE" | "DEMOTE";
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "DeviceId".
 */
export type DeviceId = string;
/**
 * Who sees a user online and their last seen (`setPrivacy`).
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "PresenceVisibility".
 */
export type PresenceVisibility = ("everyone" | "nobody") | "contacts";
/**
 * A mobile push service, as SNS names its platform applications.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "PushPlatform".
 */
export type PushPlatform = "APNS" | "GCM";
/**
 * A change to an earlier message of the chat — an edit, a deletion for
 * everyone, a reaction — with its own `seq` in the chat's sequence, so every
 * device applies the same changes in the same order (live, on `sync`, and in
 * history's `events`).
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "MessageChange".
 */
export type MessageChange =
  | {
      at?: number;
      change: "edited";
      chatId?: string;
      /**
       * Acknowledge it by this id.
       */
      eventId?: string;
      /**
       * The recipient cannot see the changed message (it was sent before they
       * joined, or it was deleted for everyone since): the change comes
       * without its content, to keep `seq` gapless.
       */
      hidden?: boolean;
      message?: string | null;
      messageId?: string;
      seq?: number;
      /**
       * Who sent the changed message.
       */
      targetSenderId?: string;
      /**
       * The changed message.
       */
      targetSeq?: number;
      /**
       * Who changed it.
       */
      userId?: string;
    }
  | {
      at?: number;
      change: "deleted";
      chatId?: string;
      /**
       * Acknowledge it by this id.
       */
      eventId?: string;
      /**
       * The recipient cannot see the changed message (it was sent before they
       * joined, or it was deleted for everyone since): the change comes
       * without its content, to keep `seq` gapless.
       */
      hidden?: boolean;
      messageId?: string;
      seq?: number;
      /**
       * Who sent the changed message.
       */
      targetSenderId?: string;
      /**
       * The changed message.
       */
      targetSeq?: number;
      /**
       * Who changed it.
       */
      userId?: string;
    }
  | {
      at?: number;
      change: "reacted";
      chatId?: string;
      emoji?: string | null;
      /**
       * Acknowledge it by this id.
       */
      eventId?: string;
      /**
       * The recipient cannot see the changed message (it was sent before they
       * joined, or it was deleted for everyone since): the change comes
       * without its content, to keep `seq` gapless.
       */
      hidden?: boolean;
      messageId?: string;
      seq?: number;
      /**
       * Who sent the changed message.
       */
      targetSenderId?: string;
      /**
       * The changed message.
       */
      targetSeq?: number;
      /**
       * Who changed it.
       */
      userId?: string;
    };
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ReceiptStatus".
 */
export type ReceiptStatus = "delivered" | "read";
/**
 * A route's reply: its frame, echoing the request's `requestId` when it had
 * one. Frames pushed to a device (`newMessage`, `receipt`…) have none.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "Reply".
 */
export type Reply =
  | {
      chatId: string;
      /**
       * False when a 1-1 chat between the two users already existed.
       */
      created: boolean;
      /**
       * End-to-end encrypted (an existing 1-1 chat keeps its mode).
       */
      encrypted?: boolean;
      kind: ChatKind;
      name?: string | null;
      participants: string[];
      requestId?: string | null;
      type: "chatCreated";
    }
  | {
      chatId: string;
      clientMessageId: string;
      /**
       * True when this `clientMessageId` had already been accepted.
       */
      duplicate: boolean;
      messageId: string;
      requestId?: string | null;
      seq: number;
      status: SendStatus;
      type: "sendResult";
    }
  | (MessageView & {
      requestId?: string | null;
      type: "newMessage";
    })
  | {
      admins: string[];
      chatId: string;
      createdAt: number;
      createdBy: string;
      encrypted?: boolean;
      eventId: string;
      kind: ChatKind;
      name?: string | null;
      participants: string[];
      requestId?: string | null;
      type: "newChat";
    }
  | {
      admins: string[];
      by: string;
      chatId: string;
      eventId: string;
      operation: ParticipantOperation;
      participants: string[];
      requestId?: string | null;
      /**
       * The chat's last seq when the change took effect.
       */
      seq: number;
      type: "chatUpdate";
      userId: string;
      version: number;
    }
  | {
      chatId: string;
      eventId: string;
      requestId?: string | null;
      type: "readSync";
      upToSeq: number;
    }
  | {
      chatId: string;
      eventId: string;
      requestId?: string | null;
      status: ReceiptStatus;
      type: "receipt";
      upToSeq: number;
      userId: string;
    }
  | {
      admins: string[];
      chatId: string;
      participants: string[];
      requestId?: string | null;
      seq: number;
      type: "participantsModified";
      version: number;
    }
  | {
      chatId: string;
      lastRead: number;
      requestId?: string | null;
      type: "markedRead";
    }
  | {
      chats: ChatSummary[];
      /**
       * Present when more chats follow: send `listChats` again with it.
       */
      nextCursor?: string | null;
      requestId?: string | null;
      type: "chats";
    }
  | {
      deviceId: string;
      /**
       * Inbox entries the device had not acknowledged, now discarded.
       */
      discarded: number;
      requestId?: string | null;
      type: "deviceUnregistered";
    }
  | {
      /**
       * False on a connection of a device over the limit: it may only
       * `listDevices` and `unregisterDevice` until it reconnects.
       */
      currentRegistered: boolean;
      devices: DeviceView[];
      maxDevices: number;
      requestId?: string | null;
      type: "devices";
    }
  | {
      requestId?: string | null;
      type: "heartbeatAck";
    }
  | {
      requestId?: string | null;
      type: "connectionReplaced";
    }
  | {
      requestId?: string | null;
      type: "presenceList";
      users: PresenceView[];
    }
  | (PresenceView & {
      requestId?: string | null;
      type: "presence";
    })
  | {
      platform: PushPlatform;
      requestId?: string | null;
      type: "pushRegistered";
    }
  | {
      requestId?: string | null;
      type: "pushUnregistered";
    }
  | {
      chatId: string;
      muted: boolean;
      requestId?: string | null;
      type: "chatMuted";
    }
  | {
      chatId: string;
      eventId: string;
      requestId?: string | null;
      throughSeq: number;
      type: "chatDeleted";
    }
  | {
      chatId: string;
      requestId?: string | null;
      type: "chatAccepted";
    }
  | {
      chatId: string;
      expiresInMs: number;
      requestId?: string | null;
      type: "typing";
      typing: boolean;
      userId: string;
    }
  | {
      by: string;
      chatId: string;
      description?: string | null;
      eventId: string;
      name?: string | null;
      requestId?: string | null;
      type: "chatInfo";
    }
  | (MessageChange & {
      requestId?: string | null;
      type: "messageChanged";
    })
  | {
      chatId: string;
      message: MessageView;
      requestId?: string | null;
      type: "messageUnchanged";
    }
  | {
      chatId: string;
      eventId: string;
      requestId?: string | null;
      seq: number;
      type: "messageHidden";
    }
  | {
      about?: string | null;
      avatar?: AvatarView | null;
      displayName?: string | null;
      requestId?: string | null;
      type: "profile";
      userId: string;
    }
  | {
      presence: PresenceVisibility;
      readReceipts: boolean;
      requestId?: string | null;
      type: "privacy";
    }
  | {
      blocked: string[];
      requestId?: string | null;
      type: "blockList";
    }
  | {
      chatId: string;
      /**
       * Connected devices it was posted to.
       */
      devices: number;
      requestId?: string | null;
      type: "typingSent";
    }
  | {
      chatId: string;
      recipients: RecipientStatus[];
      requestId?: string | null;
      seq: number;
      type: "messageStatus";
    }
  | {
      /**
       * Present when more entries remain: send `sync` again with it.
       */
      cursor?: string | null;
      delivered: number;
      requestId?: string | null;
      type: "synced";
    }
  | {
      count: number;
      requestId?: string | null;
      type: "acked";
    }
  | {
      oneTimeKeyCount: number;
      requestId?: string | null;
      type: "keysUploaded";
    }
  | {
      chatId: string;
      devices: DeviceKeysView[];
      digest: string;
      requestId?: string | null;
      type: "deviceKeys";
    }
  | {
      keys: ClaimedKeyView[];
      missing?: DeviceRef[];
      requestId?: string | null;
      type: "claimedKeys";
    }
  | {
      count: number;
      /**
       * Devices skipped: no longer registered, or without keys.
       */
      missing?: DeviceRef[];
      requestId?: string | null;
      type: "toDeviceSent";
    }
  | {
      chatId: string;
      ciphertext: string;
      eventId: string;
      olmType: number;
      requestId?: string | null;
      senderDevice: string;
      senderId: string;
      /**
       * The sending device's Curve25519 identity key, as the server has it registered.
       */
      senderKey: string;
      type: "toDevice";
    }
  | {
      /**
       * What went wrong, for programs (`not_member`, `rate_limited`, …:
       * docs/protocol.md lists them); `message` is for people.
       */
      code: string;
      message: string;
      requestId?: string | null;
      /**
       * Seconds to wait before retrying (`rate_limited`).
       */
      retryAfter?: number | null;
      type: "error";
    };
/**
 * A `sendResult`'s status: the message is stored (a refusal is an `error` frame).
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "SendStatus".
 */
export type SendStatus = "SUCCESS";

/**
 * Generated from domain/src/protocol (scripts/contract); do not edit. WebSocket: a client sends ClientFrame and receives Reply. HTTP API: the request and response bodies of docs/http-api.md.
 */
export interface ChatWireContract {
  [k: string]: unknown;
}
/**
 * `GET /chats/{chatId}/attachments/{attachmentId}`.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "AttachmentDownload".
 */
export interface AttachmentDownload {
  attachmentId: string;
  contentType: string;
  expiresAt: number;
  fileName: string;
  sha256: string;
  size: number;
  /**
   * Presigned S3 GET URL.
   */
  url: string;
}
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "AttachmentUpload".
 */
export interface AttachmentUpload {
  attachmentId: string;
  /**
   * Milliseconds since the epoch.
   */
  expiresAt: number;
  uploadHeaders: {
    [k: string]: string;
  };
  uploadMethod: string;
  /**
   * Presigned S3 URL: PUT the bytes there with exactly `uploadHeaders`.
   */
  uploadUrl: string;
}
/**
 * A file a message carries, as recipients see it.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "AttachmentView".
 */
export interface AttachmentView {
  attachmentId: string;
  contentType: string;
  fileName: string;
  sha256: string;
  size: number;
}
/**
 * `GET /users/{userId}/avatar`.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "AvatarDownload".
 */
export interface AvatarDownload {
  attachmentId: string;
  contentType: string;
  expiresAt: number;
  sha256: string;
  size: number;
  /**
   * Presigned S3 GET URL.
   */
  url: string;
}
/**
 * A user's profile picture: an image uploaded through `POST /users/me/avatar`,
 * downloaded through `GET /users/{userId}/avatar`.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "AvatarView".
 */
export interface AvatarView {
  attachmentId: string;
  contentType: string;
  sha256: string;
  size: number;
}
/**
 * `GET /chats/{chatId}`.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ChatDetails".
 */
export interface ChatDetails {
  admins: string[];
  chatId: string;
  createdAt: number;
  createdBy: string;
  /**
   * A group's description (`updateChat`).
   */
  description?: string | null;
  /**
   * End-to-end encrypted (`createChat` with `encrypted`).
   */
  encrypted?: boolean;
  /**
   * The caller sees messages after this seq (the chat's seq when they joined).
   */
  joinedAtSeq?: number;
  kind: ChatKind;
  lastActiveAt: number;
  /**
   * The last message the caller may see (the HTTP chat list fills it in).
   */
  lastMessage?: MessagePreview | null;
  lastRead: number;
  lastSeq: number;
  /**
   * Unread messages that mention the caller.
   */
  mentionCount: number;
  /**
   * The caller muted the chat (`muteChat`): its pushes say only that
   * something arrived.
   */
  muted?: boolean;
  name?: string | null;
  participants: string[];
  /**
   * The same peer's avatar (its `attachmentId`; fetch `GET /users/{userId}/avatar`).
   */
  peerAvatar?: string | null;
  /**
   * A 1-1 chat's other member's display name (`updateProfile`), when they
   * have one and show it to the caller.
   */
  peerName?: string | null;
  /**
   * Set when the caller was removed: they see the chat up to this seq.
   */
  removedAtSeq?: number | null;
  /**
   * A message request or group invitation the caller has not accepted
   * (`acceptChat`, or reply): list it apart.
   */
  request?: boolean;
  /**
   * Messages after `lastRead` (the UI's bold chat when > 0).
   */
  unreadCount: number;
}
/**
 * The start of a chat's last message, for the chat list.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "MessagePreview".
 */
export interface MessagePreview {
  attachmentCount: number;
  /**
   * The last message was deleted for everyone.
   */
  deleted?: boolean;
  edited?: boolean;
  encrypted?: boolean;
  senderId: string;
  sentAt: number;
  seq: number;
  /**
   * The start of the text; an encrypted message's whole envelope, for the client to decrypt.
   */
  text: string;
}
/**
 * One member's view of a chat, for the chat list.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ChatSummary".
 */
export interface ChatSummary {
  chatId: string;
  /**
   * A group's description (`updateChat`).
   */
  description?: string | null;
  /**
   * End-to-end encrypted (`createChat` with `encrypted`).
   */
  encrypted?: boolean;
  /**
   * The caller sees messages after this seq (the chat's seq when they joined).
   */
  joinedAtSeq?: number;
  kind: ChatKind;
  lastActiveAt: number;
  /**
   * The last message the caller may see (the HTTP chat list fills it in).
   */
  lastMessage?: MessagePreview | null;
  lastRead: number;
  lastSeq: number;
  /**
   * Unread messages that mention the caller.
   */
  mentionCount: number;
  /**
   * The caller muted the chat (`muteChat`): its pushes say only that
   * something arrived.
   */
  muted?: boolean;
  name?: string | null;
  participants: string[];
  /**
   * The same peer's avatar (its `attachmentId`; fetch `GET /users/{userId}/avatar`).
   */
  peerAvatar?: string | null;
  /**
   * A 1-1 chat's other member's display name (`updateProfile`), when they
   * have one and show it to the caller.
   */
  peerName?: string | null;
  /**
   * Set when the caller was removed: they see the chat up to this seq.
   */
  removedAtSeq?: number | null;
  /**
   * A message request or group invitation the caller has not accepted
   * (`acceptChat`, or reply): list it apart.
   */
  request?: boolean;
  /**
   * Messages after `lastRead` (the UI's bold chat when > 0).
   */
  unreadCount: number;
}
/**
 * `GET /chats`.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ChatsPage".
 */
export interface ChatsPage {
  chats: ChatSummary[];
  nextCursor?: string | null;
}
/**
 * A key `claimKeys` handed out, for one device.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ClaimedKeyView".
 */
export interface ClaimedKeyView {
  deviceId: string;
  /**
   * The device's one-time keys ran out: this is its fallback key (handed
   * out again until the device replaces it).
   */
  fallback?: boolean;
  identityKeys: IdentityKeys;
  key: string;
  keyId: string;
  userId: string;
}
/**
 * A device's long-term keys (Olm's identity keys, unpadded base64).
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "IdentityKeys".
 */
export interface IdentityKeys {
  /**
   * For key agreement (Olm sessions).
   */
  curve25519: string;
  /**
   * For signatures.
   */
  ed25519: string;
}
/**
 * A one-time or fallback key as a device uploads it.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "OneTimeKeyView".
 */
export interface OneTimeKeyView {
  /**
   * Curve25519 public key, unpadded base64.
   */
  key: string;
  /**
   * The device's name for it (unique per device).
   */
  keyId: string;
}
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "DeviceRef".
 */
export interface DeviceRef {
  deviceId: DeviceId;
  userId: UserId;
}
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ToDeviceMessage".
 */
export interface ToDeviceMessage {
  /**
   * The Olm ciphertext (base64).
   */
  ciphertext: string;
  deviceId: DeviceId;
  /**
   * Olm message type: 0 (pre-key, the first of a session) or 1.
   */
  olmType: number;
  userId: UserId;
}
/**
 * `POST /chats/{chatId}/attachments`.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "CreateAttachmentRequest".
 */
export interface CreateAttachmentRequest {
  contentType: string;
  fileName: string;
  /**
   * Base64 SHA-256 of the exact bytes to upload.
   */
  sha256: string;
  size: number;
}
/**
 * `POST /users/me/avatar`: the image to upload as the caller's avatar.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "CreateAvatarRequest".
 */
export interface CreateAvatarRequest {
  contentType: string;
  /**
   * Base64 SHA-256 of the exact bytes to upload.
   */
  sha256: string;
  size: number;
}
/**
 * Who deleted a message for everyone, and when.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "Deletion".
 */
export interface Deletion {
  at: number;
  by: string;
}
/**
 * A member's device as `getDeviceKeys` lists it.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "DeviceKeysView".
 */
export interface DeviceKeysView {
  deviceId: string;
  identityKeys: IdentityKeys;
  userId: string;
}
/**
 * One of the caller's registered devices (`listDevices`).
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "DeviceView".
 */
export interface DeviceView {
  /**
   * When its current (or last recorded) connection opened, if any.
   */
  connectedAt?: number | null;
  /**
   * The device asking.
   */
  current: boolean;
  deviceId: string;
  /**
   * Holds a live connection now.
   */
  online: boolean;
  /**
   * `APNS` or `GCM` when it receives pushes.
   */
  pushPlatform?: PushPlatform | null;
  /**
   * Milliseconds since the epoch.
   */
  registeredAt: number;
}
/**
 * Every HTTP API error body: the WebSocket's `error` frame without its `type`.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "HttpError".
 */
export interface HttpError {
  code: string;
  message: string;
  /**
   * Seconds to wait before retrying (`rate_limited`; also the `Retry-After` header).
   */
  retryAfter?: number | null;
}
/**
 * A stored message as every device sees it.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "MessageView".
 */
export interface MessageView {
  /**
   * The uploaded files the message carries (fetch each through the HTTP API).
   */
  attachments?: AttachmentView[];
  chatId: string;
  clientMessageId: string;
  /**
   * Deleted for everyone: the text, attachments, quote and reactions are gone.
   */
  deleted?: Deletion | null;
  /**
   * When its text was last edited (`editMessage`), if ever.
   */
  editedAt?: number | null;
  /**
   * Sent in an end-to-end encrypted chat: `message` (and an edit's text) is an envelope.
   */
  encrypted?: boolean;
  /**
   * Members named as `@userId` in the text, parsed by the server.
   */
  mentions?: string[];
  /**
   * The text; in an encrypted chat an envelope (`megolm.v1:<sessionId>:<ciphertext>`, docs/e2ee.md).
   */
  message: string;
  messageId: string;
  /**
   * Reactions, one per user, grouped by emoji.
   */
  reactions?: ReactionCount[];
  /**
   * The message this one replies to.
   */
  replyTo?: Quote | null;
  senderDevice: string;
  senderId: string;
  /**
   * Milliseconds since the epoch, when the server accepted the message.
   */
  sentAt: number;
  seq: number;
  /**
   * The seq of the last change (edit, deletion, reaction) this state
   * includes: a client applies a `messageChanged` only when its seq is greater.
   */
  updatedSeq?: number | null;
}
/**
 * One emoji's reactions to a message.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "ReactionCount".
 */
export interface ReactionCount {
  count: number;
  emoji: string;
  /**
   * Who reacted with it, by user id.
   */
  users: string[];
}
/**
 * The message a reply quotes, as it was when quoted.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "Quote".
 */
export interface Quote {
  attachmentCount: number;
  /**
   * The quoted message was deleted for everyone since: no snippet, no attachments.
   */
  deleted?: boolean;
  messageId: string;
  senderId: string;
  seq: number;
  /**
   * The start of its text (at most `QUOTE_SNIPPET_CHARS` characters).
   */
  snippet: string;
}
/**
 * `GET /chats/{chatId}/messages`: messages in ascending seq order.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "MessagesPage".
 */
export interface MessagesPage {
  chatId: string;
  /**
   * The changes (edits, deletions, reactions) in the same window, each at
   * its own seq: with `messages` and `hidden`, every seq of the window.
   */
  events?: MessageChange[];
  /**
   * More messages lie beyond this page in the direction asked for.
   */
  hasMore: boolean;
  /**
   * Seqs of messages the caller deleted for themself.
   */
  hidden?: number[];
  /**
   * Each as it is now (for a removed member: as it was when they were removed).
   */
  messages: MessageView[];
}
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "PresenceView".
 */
export interface PresenceView {
  /**
   * The user hides their presence from the caller (`setPrivacy`): then
   * `online` is false and there is no `lastSeen`, whatever they are.
   */
  hidden?: boolean;
  /**
   * When the user's last device went offline (milliseconds), if ever.
   */
  lastSeen?: number | null;
  online: boolean;
  userId: string;
}
/**
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "RecipientStatus".
 */
export interface RecipientStatus {
  delivered: boolean;
  read: boolean;
  userId: string;
}
/**
 * `GET /users/{userId}`.
 *
 * This interface was referenced by `ChatWireContract`'s JSON-Schema
 * via the `definition` "UserProfile".
 */
export interface UserProfile {
  about?: string | null;
  avatar?: AvatarView | null;
  /**
   * Chats the caller and this user are both in.
   */
  chatsInCommon: number;
  displayName?: string | null;
  /**
   * The user hides their presence from the caller (`setPrivacy`): then
   * `online` is false and there is no `lastSeen`, whatever they are.
   */
  hidden?: boolean;
  /**
   * When the user's last device went offline (milliseconds), if ever.
   */
  lastSeen?: number | null;
  online: boolean;
  userId: string;
}
