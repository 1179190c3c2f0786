// @ts-check
/**
 * A client for the messaging backend's WebSocket protocol and HTTP API
 * (docs/protocol.md, docs/http-api.md), for browsers and any runtime with
 * `WebSocket`, `fetch` and `crypto.subtle`. No framework, no dependencies.
 *
 * What it does for an app:
 * - connects with a token (as the `token` query parameter: browsers cannot
 *   set headers on a WebSocket), reconnects with exponential backoff and
 *   jitter, and `sync`s on every (re)connect, following its cursor;
 * - sends requests with a `requestId` and resolves their replies as promises
 *   (an `error` frame rejects with a {@link ChatError});
 * - acknowledges every delivered message and event (batched, without a
 *   `requestId`, as the protocol advises), de-duplicates them by
 *   `messageId` / `eventId`, and keeps each chat's messages ordered by `seq`
 *   with their changes (edits, deletions, reactions) applied;
 * - sends one chat's messages one at a time, in the order they were written
 *   (its outbox), each retried with the same `clientMessageId` until the
 *   server answers (a retry never stores a second message): a burst, or the
 *   retries after a reconnect, are stored in the writer's order;
 * - beats every 5 minutes (the server's presence window is 11);
 * - calls the HTTP API: history, chat list, chat details, users, uploads
 *   through the presigned URL with progress, downloads;
 * - emits an event for every server frame (`frame`, and one named by the
 *   frame's `type`), plus `status` (connecting, open, closed) and `chat`
 *   (a chat's messages changed).
 *
 * @module chat-client
 */

// The wire types come from the contract (protocol.d.ts, generated from the
// server's Rust types by scripts/contract): never written here by hand.
/** @typedef {import("./protocol").MessageView & {pending?: boolean, failed?: string}} Message
 * A message as the server sends it; `pending` and `failed` are the library's own (a send not confirmed yet). */
/** @typedef {import("./protocol").AttachmentView} Attachment */
/** @typedef {import("./protocol").MessageChange} MessageChange */
/** @typedef {{type: string, requestId?: string, [field: string]: any}} Frame */

/**
 * @typedef {Object} ClientOptions
 * @property {string} websocketUrl  `wss://…/prod` (the stack's `WebSocketUrl` output)
 * @property {string} httpApiUrl    `https://…/prod` (the stack's `HttpApiUrl` output)
 * @property {() => Promise<string>} getToken  a token for this user and device (called on every connect)
 * @property {number} [requestTimeoutMs]  how long a request waits for its reply (default 15 000)
 * @property {number} [heartbeatMs]  between heartbeats (default 300 000: 5 minutes)
 * @property {number} [maxBackoffMs]  the longest pause between reconnects (default 30 000)
 * @property {typeof WebSocket} [WebSocket]  for runtimes without a global one
 */

/** A request the server refused: `code` is the protocol's error code. */
export class ChatError extends Error {
  /** @param {string} code @param {string} message @param {number} [retryAfter] */
  constructor(code, message, retryAfter) {
    super(message);
    this.name = "ChatError";
    /** @type {string} */
    this.code = code;
    /** Seconds to wait before retrying (`rate_limited`). @type {number|undefined} */
    this.retryAfter = retryAfter;
  }
}

/** Errors a retry with the same ids may get past. */
const RETRYABLE = new Set(["unavailable", "contention", "timeout", "disconnected"]);
const ACK_BATCH = 100;

/** A random id for a client message (unique per message; a retry reuses it). */
export function newClientMessageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Base64 SHA-256 of some bytes, as S3's `x-amz-checksum-sha256` wants it. @param {ArrayBuffer} bytes */
export async function sha256Base64(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let binary = "";
  for (const b of digest) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * One chat's messages as this device knows them, ordered by `seq`, with
 * changes applied in seq order whatever order they arrive in.
 */
export class ChatState {
  constructor() {
    /** @type {Map<number, Message>} by seq */
    this.bySeq = new Map();
    /** Sends not confirmed yet, by clientMessageId. @type {Map<string, Message>} */
    this.pending = new Map();
    /** Changes that arrived before their message, by target seq. @type {Map<number, MessageChange[]>} */
    this.early = new Map();
    /** Seqs the user deleted for themself. @type {Set<number>} */
    this.hidden = new Set();
    /**
     * The outbox: the chat's sends, chained, so the next starts once the one
     * before has its answer (the server gives seqs in the order sends
     * arrive; sends in flight together would be stored in any order).
     * @type {Promise<unknown>}
     */
    this.outbox = Promise.resolve();
  }

  /** Every message to show, oldest first (pending sends last). @returns {Message[]} */
  list() {
    const stored = [...this.bySeq.values()].filter((m) => !this.hidden.has(m.seq)).sort((a, b) => a.seq - b.seq);
    return stored.concat([...this.pending.values()]);
  }

  /** @param {Message} message @returns {boolean} whether it was new or newer */
  put(message) {
    const known = this.bySeq.get(message.seq);
    if (known && (known.updatedSeq ?? 0) >= (message.updatedSeq ?? 0)) return false;
    this.bySeq.set(message.seq, { ...message });
    this.pending.delete(message.clientMessageId);
    for (const change of this.early.get(message.seq) ?? []) this.apply(change);
    this.early.delete(message.seq);
    return true;
  }

  /** Applies a change to its message if it is newer than the message's state. @param {MessageChange} change */
  apply(change) {
    if (change.hidden) return false;
    const message = this.bySeq.get(change.targetSeq);
    if (!message) {
      const early = this.early.get(change.targetSeq) ?? [];
      early.push(change);
      this.early.set(change.targetSeq, early);
      return false;
    }
    if ((message.updatedSeq ?? 0) >= change.seq) return false;
    message.updatedSeq = change.seq;
    if (change.change === "edited") {
      message.message = change.message ?? message.message;
      message.editedAt = change.at;
    } else if (change.change === "deleted") {
      message.message = "";
      message.attachments = [];
      message.reactions = [];
      delete message.replyTo;
      message.deleted = { by: change.userId, at: change.at };
      for (const other of this.bySeq.values()) {
        if (other.replyTo?.seq === message.seq) other.replyTo = { ...other.replyTo, snippet: "", attachmentCount: 0, deleted: true };
      }
    } else if (change.change === "reacted") {
      const counts = (message.reactions ?? []).map((r) => ({ ...r, users: r.users.filter((u) => u !== change.userId) }));
      if (change.emoji) {
        const same = counts.find((r) => r.emoji === change.emoji);
        if (same) same.users.push(change.userId);
        else counts.push({ emoji: change.emoji, count: 0, users: [change.userId] });
      }
      message.reactions = counts.filter((r) => r.users.length > 0).map((r) => ({ ...r, count: r.users.length }));
    }
    return true;
  }

  /** The last seq known (messages and changes alike). */
  lastSeq() {
    let last = 0;
    for (const seq of this.bySeq.keys()) last = Math.max(last, seq);
    return last;
  }

  firstSeq() {
    let first = Infinity;
    for (const seq of this.bySeq.keys()) first = Math.min(first, seq);
    return first === Infinity ? 0 : first;
  }
}

export class ChatClient extends EventTarget {
  /** @param {ClientOptions} options */
  constructor(options) {
    super();
    this.options = { requestTimeoutMs: 15_000, heartbeatMs: 300_000, maxBackoffMs: 30_000, ...options };
    /** @type {WebSocket|null} */
    this.socket = null;
    /** "idle" | "connecting" | "open" | "closed" */
    this.status = "idle";
    /** @type {Map<string, {resolve: (f: Frame) => void, reject: (e: Error) => void, timer: any}>} */
    this.waiting = new Map();
    /** @type {Map<string, ChatState>} */
    this.chats = new Map();
    /** Ids of frames already handled (messages by messageId, events by eventId), most recent last. */
    this.seen = new Set();
    /** @type {string[]} */
    this.toAck = [];
    this.ackTimer = null;
    this.heartbeatTimer = null;
    this.reconnectTimer = null;
    this.attempt = 0;
    this.nextRequest = 0;
    this.wanted = false;
    /** Sends waiting for an open socket: retried on reconnect. @type {Set<() => void>} */
    this.onOpen = new Set();
    /** The server closed this connection for another of the same device. */
    this.replaced = false;
  }

  // ---- connection

  /**
   * Connects (and keeps reconnecting until {@link close}, or until another
   * window of the same device takes the connection: status `replaced`; call
   * it again to take it back). Resolves once open and synced.
   */
  connect() {
    this.wanted = true;
    return new Promise((resolve) => {
      const opened = () => {
        this.removeEventListener("synced", opened);
        resolve(undefined);
      };
      this.addEventListener("synced", opened);
      this.open();
    });
  }

  /** Closes the socket and stops reconnecting. */
  close() {
    this.wanted = false;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    this.socket?.close(1000);
    this.setStatus("closed");
  }

  /** @param {string} status */
  setStatus(status) {
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }

  async open() {
    this.replaced = false;
    this.setStatus("connecting");
    let token;
    try {
      token = await this.options.getToken();
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    const url = `${this.options.websocketUrl}?token=${encodeURIComponent(token)}`;
    const Socket = this.options.WebSocket ?? WebSocket;
    const socket = new Socket(url);
    this.socket = socket;
    socket.onopen = async () => {
      this.attempt = 0;
      this.setStatus("open");
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = setInterval(() => this.send({ action: "heartbeat" }), this.options.heartbeatMs);
      try {
        await this.syncAll();
      } catch (e) {
        // A failed sync is retried on the next connect; live delivery runs meanwhile.
      }
      this.dispatchEvent(new CustomEvent("synced"));
      for (const retry of [...this.onOpen]) retry();
    };
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = () => {
      if (this.socket !== socket) return;
      clearInterval(this.heartbeatTimer);
      for (const [id, waiter] of this.waiting) {
        clearTimeout(waiter.timer);
        waiter.reject(new ChatError("disconnected", "the connection closed before the reply"));
        this.waiting.delete(id);
      }
      // Replaced by another window of this device: reconnecting would close
      // that one, which would reconnect and close this one, for ever.
      this.setStatus(this.replaced ? "replaced" : "closed");
      if (this.wanted && !this.replaced) this.scheduleReconnect();
    };
  }

  /** Exponential backoff with full jitter: a crowd of clients does not come back at once. */
  scheduleReconnect() {
    const ceiling = Math.min(this.options.maxBackoffMs, 500 * 2 ** this.attempt);
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.open(), Math.random() * ceiling);
  }

  /** Replays this device's inbox (unacknowledged frames), page by page. */
  async syncAll() {
    let cursor;
    do {
      const reply = await this.request("sync", cursor ? { cursor } : {});
      cursor = reply.cursor;
    } while (cursor);
  }

  // ---- frames

  /** @param {Frame} frame */
  send(frame) {
    if (this.socket?.readyState !== 1) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends `action` with a `requestId` and resolves with its reply frame.
   * @param {string} action @param {Record<string, any>} [fields] @returns {Promise<Frame>}
   */
  request(action, fields = {}) {
    const requestId = `r${++this.nextRequest}-${Date.now().toString(36)}`;
    return new Promise((resolve, reject) => {
      if (!this.send({ action, requestId, ...fields })) {
        reject(new ChatError("disconnected", "not connected"));
        return;
      }
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new ChatError("timeout", `no reply to ${action} within ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      this.waiting.set(requestId, { resolve, reject, timer });
    });
  }

  /** @param {string} text */
  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === "connectionReplaced") this.replaced = true;
    if (frame.requestId && this.waiting.has(frame.requestId)) {
      const waiter = this.waiting.get(frame.requestId);
      this.waiting.delete(frame.requestId);
      clearTimeout(waiter?.timer);
      if (frame.type === "error") waiter?.reject(new ChatError(frame.code, frame.message, frame.retryAfter));
      else waiter?.resolve(frame);
    }
    const frames = frame.type === "syncBatch" ? frame.frames : [frame];
    for (const inner of frames) this.handle(inner);
  }

  /** @param {Frame} frame */
  handle(frame) {
    const id = frame.type === "newMessage" ? frame.messageId : frame.eventId;
    const stored = frame.type === "newMessage" || (frame.eventId && !frame.requestId);
    if (stored && id) {
      this.ack(id);
      // At least once: a frame seen already (live and again on sync) is dropped.
      if (this.seen.has(id) && frame.type !== "newMessage") return;
      this.seen.add(id);
    }
    if (frame.type === "newMessage") {
      const changed = this.chat(frame.chatId).put(frame);
      if (!changed) return;
      this.changed(frame.chatId);
    } else if (frame.type === "messageChanged") {
      if (this.chat(frame.chatId).apply(frame)) this.changed(frame.chatId);
    } else if (frame.type === "messageHidden") {
      this.chat(frame.chatId).hidden.add(frame.seq);
      this.changed(frame.chatId);
    }
    this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
  }

  /** @param {string} chatId */
  changed(chatId) {
    this.dispatchEvent(new CustomEvent("chat", { detail: { chatId } }));
  }

  /** Acknowledges a frame soon (one `ack` per 100 ids or 50 ms). @param {string} id */
  ack(id) {
    this.toAck.push(id);
    if (this.toAck.length >= ACK_BATCH) this.flushAcks();
    else if (!this.ackTimer) this.ackTimer = setTimeout(() => this.flushAcks(), 50);
  }

  flushAcks() {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    while (this.toAck.length > 0) {
      const batch = [...new Set(this.toAck.splice(0, ACK_BATCH))];
      // Without a requestId: a successful ack is not answered (docs/protocol.md).
      if (!this.send({ action: "ack", messageIds: batch })) {
        // Not acked: the frames come again on the next sync, and are dropped by id.
        this.toAck = [];
        return;
      }
    }
  }

  /** The state of one chat (created empty). @param {string} chatId */
  chat(chatId) {
    let state = this.chats.get(chatId);
    if (!state) {
      state = new ChatState();
      this.chats.set(chatId, state);
    }
    return state;
  }

  // ---- requests

  /**
   * Sends a message: shown at once as pending in {@link ChatState.list}, then
   * confirmed by its `sendResult`. Retries with the same `clientMessageId`
   * until the server answers (reconnecting if need be); a refusal marks it failed.
   * @param {string} chatId @param {string} text
   * @param {{attachments?: (string|Attachment)[], replyTo?: number, clientMessageId?: string, senderId?: string}} [extra]
   *   `attachments`: ids, or the attachments {@link upload} resolved with (then the pending bubble shows them)
   * @returns {Promise<Frame>} the `sendResult`
   */
  async sendMessage(chatId, text, extra = {}) {
    const clientMessageId = extra.clientMessageId ?? newClientMessageId();
    const state = this.chat(chatId);
    state.pending.set(clientMessageId, {
      chatId, clientMessageId, message: text, seq: Infinity, messageId: "", senderId: extra.senderId ?? "", senderDevice: "",
      sentAt: Date.now(), pending: true,
      attachments: (extra.attachments ?? []).filter((a) => typeof a !== "string"),
    });
    this.changed(chatId);
    const ids = (extra.attachments ?? []).map((a) => (typeof a === "string" ? a : a.attachmentId));
    const fields = { chatId, clientMessageId, message: text, attachments: ids };
    if (extra.replyTo) fields.replyTo = extra.replyTo;
    const deliver = async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const result = await this.request("sendMessage", fields);
          const pending = state.pending.get(clientMessageId);
          if (pending) {
            state.pending.delete(clientMessageId);
            state.put({ ...pending, pending: false, seq: result.seq, messageId: result.messageId, sentAt: pending.sentAt });
          }
          this.changed(chatId);
          return result;
        } catch (e) {
          if (!(e instanceof ChatError) || !RETRYABLE.has(e.code) || attempt > 20) {
            const pending = state.pending.get(clientMessageId);
            if (pending) pending.failed = e instanceof ChatError ? e.code : String(e);
            this.changed(chatId);
            throw e;
          }
          await this.untilOpen(Math.min(8000, 250 * 2 ** attempt));
        }
      }
    };
    // Its turn comes after every earlier send of the chat has its answer; a
    // refused one does not hold up those after it.
    const turn = state.outbox.then(deliver);
    state.outbox = turn.catch(() => undefined);
    return turn;
  }

  /** Waits for `ms`, or until the socket is open again if it is not. @param {number} ms */
  untilOpen(ms) {
    return new Promise((resolve) => {
      const done = () => {
        this.onOpen.delete(done);
        resolve(undefined);
      };
      if (this.status === "open") setTimeout(done, ms);
      else this.onOpen.add(done);
    });
  }

  /** @param {string[]} participants @param {string} [name] */
  createChat(participants, name) {
    return this.request("createChat", name ? { participants, name } : { participants });
  }
  /** @param {string} chatId @param {string} userId @param {"ADD"|"REMOVE"|"PROMOTE"|"DEMOTE"} operation */
  modifyParticipants(chatId, userId, operation) {
    return this.request("modifyChatParticipants", { chatId, userId, operation });
  }
  /** @param {string} chatId @param {number} upToSeq */
  markRead(chatId, upToSeq) {
    return this.request("markRead", { chatId, upToSeq });
  }
  /** @param {string} chatId */
  acceptChat(chatId) {
    return this.request("acceptChat", { chatId });
  }
  /** @param {string} chatId @param {number} seq @param {string} message */
  editMessage(chatId, seq, message) {
    return this.request("editMessage", { chatId, seq, message });
  }
  /** @param {string} chatId @param {number} seq @param {boolean} forEveryone */
  deleteMessage(chatId, seq, forEveryone) {
    return this.request("deleteMessage", { chatId, seq, forEveryone });
  }
  /** @param {string} chatId @param {number} seq @param {string|null} emoji */
  react(chatId, seq, emoji) {
    return this.request("react", { chatId, seq, emoji });
  }
  /** @param {string} chatId @param {boolean} typing */
  typing(chatId, typing) {
    return this.send({ action: "typing", chatId, typing });
  }
  /** @param {string[]} userIds */
  subscribePresence(userIds) {
    return this.request("subscribePresence", { userIds });
  }
  /** @param {{displayName?: string, about?: string, avatar?: string}} profile */
  updateProfile(profile) {
    return this.request("updateProfile", profile);
  }

  // ---- HTTP API

  /** @param {string} path @param {RequestInit} [init] */
  async http(path, init = {}) {
    const token = await this.options.getToken();
    const response = await fetch(`${this.options.httpApiUrl}${path}`, {
      ...init,
      headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` },
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ChatError(body?.code ?? String(response.status), body?.message ?? response.statusText, body?.retryAfter);
    return body;
  }

  /**
   * A page of history (ascending seq), folded into the chat's state.
   * @param {string} chatId @param {{before?: number, after?: number, limit?: number}} [query]
   */
  async history(chatId, query = {}) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const page = await this.http(`/chats/${encodeURIComponent(chatId)}/messages?${params}`);
    const state = this.chat(chatId);
    for (const seq of page.hidden ?? []) state.hidden.add(seq);
    for (const message of page.messages) state.put(message);
    for (const change of page.events ?? []) state.apply(change);
    this.changed(chatId);
    return page;
  }

  /** The chat list, most recently active first. @param {{cursor?: string, limit?: number}} [query] */
  chatList(query = {}) {
    const params = new URLSearchParams();
    if (query.cursor) params.set("cursor", query.cursor);
    if (query.limit) params.set("limit", String(query.limit));
    return this.http(`/chats?${params}`);
  }

  /** @param {string} chatId */
  chatDetails(chatId) {
    return this.http(`/chats/${encodeURIComponent(chatId)}`);
  }

  /** @param {string} userId */
  user(userId) {
    return this.http(`/users/${encodeURIComponent(userId)}`);
  }

  /** A presigned download (`url`, valid a few minutes) of an attachment. @param {string} chatId @param {string} attachmentId */
  download(chatId, attachmentId) {
    return this.http(`/chats/${encodeURIComponent(chatId)}/attachments/${encodeURIComponent(attachmentId)}`);
  }

  /**
   * Uploads a file through its presigned URL; resolves with the attachment
   * (send it, or its `attachmentId`, in a message's `attachments`).
   * @param {string} chatId @param {File|Blob} file
   * @param {{fileName?: string, onProgress?: (fraction: number) => void}} [options]
   */
  async upload(chatId, file, options = {}) {
    const bytes = await file.arrayBuffer();
    const body = {
      fileName: options.fileName ?? (/** @type {File} */ (file).name || "file"),
      contentType: file.type || "application/octet-stream",
      size: bytes.byteLength,
      sha256: await sha256Base64(bytes),
    };
    const upload = await this.http(`/chats/${encodeURIComponent(chatId)}/attachments`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await putWithProgress(upload.uploadUrl, upload.uploadHeaders, bytes, options.onProgress);
    /** @type {Attachment} */
    const attachment = { attachmentId: upload.attachmentId, fileName: body.fileName, contentType: body.contentType, size: body.size, sha256: body.sha256 };
    return attachment;
  }
}

/** PUTs bytes with exactly the signed headers, reporting progress (XMLHttpRequest: fetch has no upload progress). */
function putWithProgress(url, headers, bytes, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers ?? {})) {
      // The browser sets these itself (and refuses to be told).
      if (!["host", "content-length"].includes(name.toLowerCase())) xhr.setRequestHeader(name, String(value));
    }
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onload = () => (xhr.status < 300 ? resolve(undefined) : reject(new ChatError(String(xhr.status), `S3 refused the upload: ${xhr.responseText}`)));
    xhr.onerror = () => reject(new ChatError("upload_failed", "the upload did not reach S3"));
    xhr.send(bytes);
  });
}
