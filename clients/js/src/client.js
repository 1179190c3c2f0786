// @ts-check
/**
 * A client for the messaging backend's WebSocket protocol and HTTP API
 * (docs/protocol.md, docs/http-api.md), for browsers and Node ≥ 20: it takes
 * `WebSocket` and `fetch` from the platform or from its options, and
 * `crypto` from the platform. No dependencies.
 *
 * What it does for an app:
 * - connects with a token (as the `token` query parameter: browsers cannot
 *   set headers on a WebSocket), reconnects with exponential backoff and
 *   jitter, and `sync`s on every (re)connect, following its cursor;
 * - tells a refused token from a network failure: `connect()` rejects with
 *   `unauthorized` (after asking `getToken` once more, for a fresh one) and
 *   an `auth` event fires; a network failure is retried;
 * - sends requests with a `requestId` and resolves their replies as promises
 *   (an `error` frame rejects with a {@link ChatError});
 * - acknowledges every delivered message and event (batched, without a
 *   `requestId`, as the protocol advises), de-duplicates them (messages by
 *   chat and seq, events by id in a bounded window), and keeps each chat's
 *   messages ordered by `seq` with their changes applied;
 * - sends one chat's messages one at a time, in the order they were
 *   written, each retried with the same `clientMessageId` until the server
 *   answers, from an outbox that can outlive the page or process;
 * - beats every 5 minutes (the server's presence window is 11), and takes a
 *   heartbeat without an answer as a dead socket (reconnects);
 * - calls the HTTP API: history, chat list, chat details, users, uploads
 *   through the presigned URL, downloads;
 * - emits an event for every server frame (`frame`, and one named by the
 *   frame's `type`), plus `status`, `chat` (a chat's messages changed),
 *   `synced`, `outbox` (what is pending changed) and `auth`.
 * Nothing it does throws into its host: network and auth failures are
 * events, rejections and statuses.
 *
 * @module client
 */

import { ChatState } from "./chat-state.js";
import { ChatError, RETRYABLE } from "./errors.js";
import { memoryCache } from "./cache.js";
import { SendQueue, memoryOutbox } from "./outbox.js";

// The wire types come from the contract (protocol.d.ts, generated from the
// server's Rust types by scripts/contract): never written here by hand.
/** @typedef {import("./chat-state.js").Message} Message */
/** @typedef {import("./protocol.js").AttachmentView} Attachment */
/** @typedef {import("./protocol.js").Reply} ServerFrame */
/** @typedef {import("./outbox.js").OutboxEntry} OutboxEntry */
/** @typedef {{type: string, requestId?: string, [field: string]: any}} Frame  a server frame as parsed, before its type is known */

/**
 * @typedef {"idle" | "connecting" | "open" | "closed" | "replaced" | "unauthorized"} Status
 * `replaced`: another window of the same device took the connection;
 * `unauthorized`: the server refused the token (also a refreshed one).
 * Neither reconnects by itself: `connect()` does.
 */

/**
 * Every event, by name, with its `detail`: one per server frame `type`,
 * and the client's own.
 * @typedef {{[K in ServerFrame["type"]]: Extract<ServerFrame, {type: K}>} & {
 *   frame: ServerFrame,
 *   chat: {chatId: string},
 *   status: Status,
 *   synced: null,
 *   outbox: {chatId: string},
 *   sent: Message,
 *   auth: ChatError,
 * }} ClientEvents
 */

/**
 * @typedef {Object} ClientOptions
 * @property {string} websocketUrl  `wss://…/prod` (the stack's `WebSocketUrl` output)
 * @property {string} httpApiUrl    `https://…/prod` (the stack's `HttpApiUrl` output)
 * @property {(request: {refresh: boolean}) => Promise<string>} getToken
 *   a token for this user and device, asked on every connect; `refresh` is
 *   true after the server refused the last one (the token-refresh hook)
 * @property {string} [userId]  the signed-in user: pending sends (also those restored from the outbox) are shown as theirs
 * @property {number} [requestTimeoutMs]  how long a request waits for its reply (default 15 000)
 * @property {number} [heartbeatMs]  between heartbeats (default 300 000: 5 minutes)
 * @property {number} [maxBackoffMs]  the longest pause between reconnects (default 30 000)
 * @property {number} [maxSendAttempts]  tries of one send before it is marked failed (default 20)
 * @property {new (url: string) => WebSocket} [WebSocket]  for runtimes without a global one (Node 20: the `ws` package's
 *   default export, which has the same `onopen`, `onmessage`, `onerror`, `onclose`, `send`, `close` and `readyState`)
 * @property {typeof globalThis.fetch} [fetch]  instead of the global one
 * @property {import("./outbox.js").OutboxStore} [outbox]  where pending sends are kept (default: memory)
 * @property {import("./cache.js").Cache} [cache]  where the chat list and each chat's recent messages are kept
 *   across page loads (`restoreCache()` reads them back; default: memory)
 */

/** Messages of a chat kept in the cache: its newest. */
const CACHED_MESSAGES = 50;

/** Ids of stored events remembered to drop a repeat: a `sync` replays at most a page beyond what was live. */
const SEEN_EVENTS = 5_000;
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

export class ChatClient extends EventTarget {
  /** @param {ClientOptions} options */
  constructor(options) {
    super();
    this.options = { requestTimeoutMs: 15_000, heartbeatMs: 300_000, maxBackoffMs: 30_000, maxSendAttempts: 20, ...options };
    /** @type {WebSocket|null} */
    this.socket = null;
    /** @type {Status} */
    this.status = "idle";
    /** @type {Map<string, {resolve: (f: Frame) => void, reject: (e: Error) => void, timer: any}>} */
    this.waiting = new Map();
    /** @type {Map<string, ChatState>} */
    this.chats = new Map();
    /** Ids of stored events already handled, oldest first (bounded: {@link SEEN_EVENTS}). @type {Set<string>} */
    this.seen = new Set();
    /** @type {string[]} */
    this.toAck = [];
    /** @type {any} */
    this.ackTimer = null;
    /** @type {any} */
    this.heartbeatTimer = null;
    /** @type {any} */
    this.reconnectTimer = null;
    this.attempt = 0;
    this.nextRequest = 0;
    this.wanted = false;
    /** Sends waiting for an open socket. @type {Set<{resolve: () => void, reject: (e: Error) => void}>} */
    this.onOpen = new Set();
    /** The server closed this connection for another of the same device. */
    this.replaced = false;
    /** The last token was refused: the next is asked for with `refresh`. */
    this.refused = false;
    /** @type {{resolve: () => void, reject: (e: Error) => void} | null} the pending `connect()` */
    this.connecting = null;
    this.store = this.options.outbox ?? memoryOutbox();
    this.cache = this.options.cache ?? memoryCache();
    /** Chats whose messages are to be written to the cache soon. @type {Set<string>} */
    this.unsaved = new Set();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.saveTimer = undefined;
    this.queue = new SendQueue();
    /** clientMessageIds queued in this client (an entry restored from the store is queued once). @type {Set<string>} */
    this.queued = new Set();
    this.order = 0;
  }

  /**
   * A typed `addEventListener`: `listener` gets the event's `detail`.
   * @template {keyof ClientEvents} K
   * @param {K} type @param {(detail: ClientEvents[K]) => void} listener
   * @returns {() => void} removes the listener
   */
  on(type, listener) {
    /** @param {Event} event */
    const wrapped = (event) => listener(/** @type {CustomEvent} */ (event).detail);
    this.addEventListener(String(type), wrapped);
    return () => this.removeEventListener(String(type), wrapped);
  }

  /** @param {string} type @param {unknown} detail */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // ---- connection

  /**
   * Connects, and keeps reconnecting until {@link close} (or until another
   * window of the same device takes the connection: status `replaced`; call
   * it again to take it back). Resolves once open and synced; rejects with
   * a {@link ChatError}: `unauthorized` (the token was refused, also after a
   * refresh), `no_websocket`, or `closed` (`close()` was called first).
   * Sends restored from the outbox show as pending before it resolves.
   * @returns {Promise<void>}
   */
  connect() {
    this.wanted = true;
    this.connecting?.reject(new ChatError("closed", "connect() was called again"));
    const connected = new Promise((resolve, reject) => {
      this.connecting = { resolve: () => resolve(undefined), reject };
    });
    if (!(this.options.WebSocket ?? globalThis.WebSocket)) {
      this.wanted = false;
      this.settleConnect(new ChatError("no_websocket", "this runtime has no WebSocket: pass one in the options (on Node 20, the ws package's)"));
      return connected;
    }
    this.restore();
    this.open();
    return connected;
  }

  /** @param {ChatError} [error] resolves the pending `connect()` without one */
  settleConnect(error) {
    const pending = this.connecting;
    this.connecting = null;
    if (error) pending?.reject(error);
    else pending?.resolve();
  }

  /**
   * Closes the socket and stops reconnecting. Everything pending settles:
   * requests reject with `closed`, and so do sends (they stay in the
   * outbox, and a later `connect()` — of this client or of one with the
   * same outbox store — sends them).
   */
  close() {
    this.wanted = false;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    // What is about to be cached is written now.
    clearTimeout(this.saveTimer);
    if (this.unsaved.size) void this.saveChats();
    const closed = () => new ChatError("closed", "the client was closed");
    this.settleConnect(closed());
    this.rejectWaiting(closed);
    for (const waiter of [...this.onOpen]) waiter.reject(closed());
    this.onOpen.clear();
    const socket = this.socket;
    this.socket = null;
    try {
      socket?.close(1000);
    } catch {
      // Closing a socket that never opened may throw in some runtimes.
    }
    this.setStatus("closed");
  }

  /** @param {() => ChatError} error */
  rejectWaiting(error) {
    for (const [id, waiter] of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error());
      this.waiting.delete(id);
    }
  }

  /** @param {Status} status */
  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit("status", status);
  }

  async open() {
    this.replaced = false;
    this.setStatus("connecting");
    let token;
    try {
      token = await this.options.getToken({ refresh: this.refused });
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    if (!this.wanted) return;
    const url = `${this.options.websocketUrl}?token=${encodeURIComponent(token)}`;
    const Socket = /** @type {typeof WebSocket} */ (this.options.WebSocket ?? globalThis.WebSocket);
    /** @type {WebSocket} */
    let socket;
    try {
      socket = new Socket(url);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    let opened = false;
    let failure = "";
    socket.onopen = async () => {
      opened = true;
      this.attempt = 0;
      this.refused = false;
      this.setStatus("open");
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = setInterval(() => this.beat(socket), this.options.heartbeatMs);
      try {
        await this.syncAll();
      } catch (e) {
        // A failed sync is retried on the next connect; live delivery runs meanwhile.
      }
      if (this.socket !== socket) return;
      this.emit("synced", null);
      this.settleConnect();
      for (const waiter of [...this.onOpen]) waiter.resolve();
    };
    // Set, so that no runtime treats the error as unhandled (the ws package
    // throws an 'error' nobody listens to into the process); the close that
    // follows says what to do.
    socket.onerror = (event) => {
      failure = String(/** @type {any} */ (event)?.message ?? /** @type {any} */ (event)?.error?.message ?? "");
    };
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = () => this.closed(socket, opened ? null : failure, token);
  }

  /**
   * A socket is gone (closed by either side, or found dead). One that never
   * opened may have been refused its token: asked of the HTTP API, which
   * answers the same token with a status a browser's WebSocket does not show.
   * @param {WebSocket} socket @param {string|null} handshakeFailure `null` if it had opened @param {string} token
   */
  async closed(socket, handshakeFailure, token) {
    if (this.socket !== socket) return;
    this.socket = null;
    clearInterval(this.heartbeatTimer);
    this.rejectWaiting(() => new ChatError("disconnected", "the connection closed before the reply"));
    if (this.replaced) {
      // Replaced by another window of this device: reconnecting would close
      // that one, which would reconnect and close this one, for ever.
      this.setStatus("replaced");
      this.settleConnect(new ChatError("replaced", "another window of this device took the connection"));
      return;
    }
    if (handshakeFailure !== null && this.wanted && (await this.tokenRefused(handshakeFailure, token))) {
      if (!this.refused) {
        // Once more with a fresh token: the last one may just have expired.
        this.refused = true;
        this.open();
        return;
      }
      const error = new ChatError("unauthorized", "the server refused this device's token");
      this.wanted = false;
      this.setStatus("unauthorized");
      this.emit("auth", error);
      this.settleConnect(error);
      return;
    }
    this.setStatus("closed");
    if (this.wanted) this.scheduleReconnect();
  }

  /** @param {string} failure what the runtime said of the failed handshake @param {string} token */
  async tokenRefused(failure, token) {
    if (/\b40[13]\b/.test(failure)) return true;
    try {
      const response = await this.fetch(`${this.options.httpApiUrl}/chats?limit=1`, { headers: { authorization: `Bearer ${token}` } });
      return response.status === 401 || response.status === 403;
    } catch {
      return false;
    }
  }

  /** A heartbeat (presence), answered: no answer in time means the socket is dead. @param {WebSocket} socket */
  beat(socket) {
    this.request("heartbeat").catch((e) => {
      if (e instanceof ChatError && e.code === "timeout" && this.socket === socket) {
        try {
          socket.close(4000);
        } catch {
          // Already closing.
        }
        this.closed(socket, null, "");
      }
    });
  }

  /** Exponential backoff with full jitter: a crowd of clients does not come back at once. */
  scheduleReconnect() {
    if (!this.wanted) return;
    const ceiling = Math.min(this.options.maxBackoffMs, 500 * 2 ** this.attempt);
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.wanted && this.open(), Math.random() * ceiling);
  }

  /** Replays this device's inbox (unacknowledged frames), page by page. */
  async syncAll() {
    /** @type {string|undefined} */
    let cursor;
    do {
      const reply = await this.request("sync", cursor ? { cursor } : {});
      cursor = reply.cursor ?? undefined;
    } while (cursor);
  }

  // ---- frames

  /** @param {Record<string, unknown>} frame @returns {boolean} whether it went out */
  send(frame) {
    if (this.socket?.readyState !== 1) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends `action` with a `requestId` and resolves with its reply frame.
   * @param {string} action @param {Record<string, unknown>} [fields] @returns {Promise<Frame>}
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
    /** @type {Frame} */
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === "connectionReplaced") this.replaced = true;
    const waiter = frame.requestId ? this.waiting.get(frame.requestId) : undefined;
    if (frame.requestId && waiter) {
      this.waiting.delete(frame.requestId);
      clearTimeout(waiter.timer);
      if (frame.type === "error") waiter.reject(new ChatError(frame.code, frame.message, frame.retryAfter));
      else waiter.resolve(frame);
    }
    const frames = frame.type === "syncBatch" ? frame.frames : [frame];
    for (const inner of frames) this.handle(inner);
  }

  /** @param {Frame} frame */
  handle(frame) {
    if (frame.type === "newMessage") {
      this.ack(frame.messageId);
      // At least once: a message seen already (live, then on sync) is one seq of its chat.
      if (!this.chat(frame.chatId).put(/** @type {Message} */ (/** @type {unknown} */ (frame)))) return;
      this.changed(frame.chatId);
    } else if (frame.eventId && !frame.requestId) {
      this.ack(frame.eventId);
      if (this.seen.has(frame.eventId)) return;
      this.seen.add(frame.eventId);
      if (this.seen.size > SEEN_EVENTS) this.seen.delete(/** @type {string} */ (this.seen.values().next().value));
    }
    if (frame.type === "messageChanged") {
      if (this.chat(frame.chatId).apply(/** @type {import("./protocol.js").MessageChange} */ (/** @type {unknown} */ (frame)))) this.changed(frame.chatId);
    } else if (frame.type === "messageHidden") {
      this.chat(frame.chatId).hidden.add(frame.seq);
      this.changed(frame.chatId);
    } else if (frame.type === "chatDeleted") {
      // (This device's deleteChat reply, or another device's, told.)
      this.chat(frame.chatId).clearThrough(frame.throughSeq);
      this.changed(frame.chatId);
    }
    this.emit("frame", frame);
    this.emit(frame.type, frame);
  }

  /** @param {string} chatId */
  changed(chatId) {
    this.emit("chat", { chatId });
    this.unsaved.add(chatId);
    this.saveTimer ??= setTimeout(() => this.saveChats(), 250);
  }

  /** Writes the changed chats' newest messages to the cache (best effort: a cache is no store). */
  async saveChats() {
    this.saveTimer = undefined;
    const chats = [...this.unsaved];
    this.unsaved.clear();
    for (const chatId of chats) {
      const state = this.chat(chatId);
      const kept = state.list().filter((m) => !m.pending && !state.hidden.has(m.seq)).slice(-CACHED_MESSAGES);
      await this.cache.put(`messages:${chatId}`, kept).catch(() => undefined);
    }
  }

  /**
   * What the cache holds from an earlier page: each cached chat's messages
   * are put back into its `ChatState`, and the chat list as it was last
   * fetched is returned (null when none was), for an app to show before the
   * network answers.
   * @returns {Promise<import("./protocol.js").ChatSummary[] | null>}
   */
  async restoreCache() {
    const chats = await this.cache.get("chats").catch(() => undefined);
    if (!Array.isArray(chats)) return null;
    for (const chat of chats) {
      const messages = await this.cache.get(`messages:${chat.chatId}`).catch(() => undefined);
      if (!Array.isArray(messages)) continue;
      const state = this.chat(chat.chatId);
      for (const message of messages) state.put(message);
    }
    return chats;
  }

  /** Empties the cache (signing out). */
  clearCache() {
    this.unsaved.clear();
    return this.cache.clear();
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
        // Not acked: the frames come again on the next sync, and are dropped.
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

  // ---- sending

  /**
   * Sends a message: kept in the outbox and shown at once as pending in
   * {@link ChatState.list}, then confirmed by its `sendResult`. Retries with
   * the same `clientMessageId` until the server answers (reconnecting if
   * need be); a refusal marks it failed (see {@link retry}, {@link discard}).
   * @param {string} chatId @param {string} text
   * @param {{attachments?: Attachment[], replyTo?: number, clientMessageId?: string, senderId?: string}} [extra]
   *   `attachments`: as {@link upload} resolved them
   * @returns {Promise<Frame>} the `sendResult`
   */
  async sendMessage(chatId, text, extra = {}) {
    /** @type {OutboxEntry} */
    const entry = {
      clientMessageId: extra.clientMessageId ?? newClientMessageId(),
      chatId,
      message: text,
      attachments: extra.attachments ?? [],
      order: Date.now() * 1000 + (this.order++ % 1000),
      writtenAt: Date.now(),
    };
    if (extra.replyTo) entry.replyTo = extra.replyTo;
    // Kept before it is shown: what the person saw as sent is not lost.
    await this.store.put(entry);
    return this.enqueue(entry, extra.senderId ?? "");
  }

  /**
   * Sends the outbox's entries this client has not queued yet (written by an
   * earlier page or process), oldest first. Failed ones are shown, not sent.
   */
  restore() {
    // On every connect: sends a close() stopped are in the store, no longer queued.
    return this.store.load().then(
      (entries) => {
        for (const entry of entries.sort((a, b) => a.order - b.order)) {
          if (this.queued.has(entry.clientMessageId)) continue;
          if (entry.failed) this.showPending(entry, "", entry.failed);
          else this.enqueue(entry, "").catch(() => undefined);
        }
      },
      () => undefined,
    );
  }

  /** Sends a failed message again. @param {string} chatId @param {string} clientMessageId */
  async retry(chatId, clientMessageId) {
    const entries = await this.store.load();
    const entry = entries.find((e) => e.clientMessageId === clientMessageId && e.chatId === chatId);
    if (!entry) throw new ChatError("invalid_request", "no such message in the outbox");
    delete entry.failed;
    await this.store.put(entry);
    return this.enqueue(entry, this.chat(chatId).pending.get(clientMessageId)?.senderId ?? "");
  }

  /** Drops a failed message from the outbox. @param {string} chatId @param {string} clientMessageId */
  async discard(chatId, clientMessageId) {
    await this.store.delete(clientMessageId);
    this.queued.delete(clientMessageId);
    if (this.chat(chatId).pending.delete(clientMessageId)) this.changed(chatId);
  }

  /** @param {OutboxEntry} entry @param {string} senderId @param {string} [failed] */
  showPending(entry, senderId, failed) {
    /** @type {Message} */
    const pending = {
      chatId: entry.chatId, clientMessageId: entry.clientMessageId, message: entry.message, seq: Infinity, messageId: "",
      senderId: senderId || this.options.userId || "", senderDevice: "", sentAt: entry.writtenAt, pending: true, attachments: entry.attachments, mentions: [], reactions: [],
    };
    if (failed) pending.failed = failed;
    this.chat(entry.chatId).pending.set(entry.clientMessageId, pending);
    this.changed(entry.chatId);
    this.emit("outbox", { chatId: entry.chatId });
  }

  /** Queues an outbox entry behind the chat's earlier sends. @param {OutboxEntry} entry @param {string} senderId */
  enqueue(entry, senderId) {
    const { chatId, clientMessageId } = entry;
    const state = this.chat(chatId);
    this.queued.add(clientMessageId);
    this.showPending(entry, senderId);
    /** @type {Record<string, unknown>} */
    const fields = { chatId, clientMessageId, message: entry.message, attachments: entry.attachments.map((a) => a.attachmentId) };
    if (entry.replyTo) fields.replyTo = entry.replyTo;
    const deliver = async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          if (this.status !== "open") await this.untilOpen(0);
          const result = await this.request("sendMessage", fields);
          const pending = state.pending.get(clientMessageId);
          state.pending.delete(clientMessageId);
          if (pending) {
            const sent = { ...pending, pending: false, seq: result.seq, messageId: result.messageId };
            state.put(sent);
            // The server does not echo a device's sends back to it: another
            // tab of this device learns of them from this event.
            this.emit("sent", sent);
          }
          this.queued.delete(clientMessageId);
          await this.store.delete(clientMessageId).catch(() => undefined);
          this.changed(chatId);
          this.emit("outbox", { chatId });
          return result;
        } catch (e) {
          // Closed: it stays in the outbox, for the next connect.
          if (e instanceof ChatError && e.code === "closed") {
            this.queued.delete(clientMessageId);
            throw e;
          }
          if (!(e instanceof ChatError) || !RETRYABLE.has(e.code) || attempt >= this.options.maxSendAttempts) {
            const code = e instanceof ChatError ? e.code : String(e);
            const pending = state.pending.get(clientMessageId);
            if (pending) pending.failed = code;
            this.queued.delete(clientMessageId);
            await this.store.put({ ...entry, failed: code }).catch(() => undefined);
            this.changed(chatId);
            this.emit("outbox", { chatId });
            throw e;
          }
          await this.untilOpen(Math.min(8000, 250 * 2 ** attempt));
        }
      }
    };
    return this.queue.enqueue(chatId, deliver);
  }

  /**
   * Waits `ms` if the socket is open, else until it opens (and is synced);
   * rejects with `closed` if the client is closed first.
   * @param {number} ms
   * @returns {Promise<void>}
   */
  untilOpen(ms) {
    return new Promise((resolve, reject) => {
      if (!this.wanted) {
        reject(new ChatError("closed", "the client is closed"));
        return;
      }
      if (this.status === "open") {
        setTimeout(resolve, ms);
        return;
      }
      const waiter = {
        resolve: () => {
          this.onOpen.delete(waiter);
          resolve();
        },
        /** @param {Error} e */
        reject: (e) => {
          this.onOpen.delete(waiter);
          reject(e);
        },
      };
      this.onOpen.add(waiter);
    });
  }

  // ---- requests

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
  /**
   * Deletes the chat for this user (a 1-1 chat or request, or a group they
   * left): it leaves their list and history up to now, on every device.
   * @param {string} chatId
   */
  deleteChat(chatId) {
    return this.request("deleteChat", { chatId });
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
  /** This user's registered devices (and whether this one is: a device past the limit connects unregistered). */
  listDevices() {
    return this.request("listDevices");
  }
  /**
   * Signs a device out (another one, or this one without `deviceId`): its
   * tokens are revoked and its inbox discarded.
   * @param {string} [deviceId]
   */
  unregisterDevice(deviceId) {
    return this.request("unregisterDevice", deviceId ? { deviceId } : {});
  }
  /** @param {{displayName?: string, about?: string, avatar?: string}} profile */
  updateProfile(profile) {
    return this.request("updateProfile", profile);
  }

  // ---- HTTP API

  /** The platform's `fetch`, or the one in the options. @param {string} url @param {RequestInit} [init] */
  fetch(url, init) {
    return (this.options.fetch ?? globalThis.fetch)(url, init);
  }

  /** @param {string} path @param {RequestInit} [init] */
  async http(path, init = {}) {
    const token = await this.options.getToken({ refresh: false });
    const response = await this.fetch(`${this.options.httpApiUrl}${path}`, {
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
  async chatList(query = {}) {
    const params = new URLSearchParams();
    if (query.cursor) params.set("cursor", query.cursor);
    if (query.limit) params.set("limit", String(query.limit));
    const page = await this.http(`/chats?${params}`);
    // The first page is what an app shows first: kept for the next load.
    if (!query.cursor && Array.isArray(page?.chats)) await this.cache.put("chats", page.chats).catch(() => undefined);
    return page;
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
   * A presigned download of a user's avatar (`url`, valid a few minutes), for
   * whoever may see their profile; `not_found` when they have none.
   * @param {string} userId
   */
  avatar(userId) {
    return this.http(`/users/${encodeURIComponent(userId)}/avatar`);
  }

  /**
   * Uploads an image (JPEG, PNG, WebP or GIF, at most 5 MB) and makes it this
   * user's avatar: `POST /users/me/avatar`, the PUT to its presigned URL, then
   * `updateProfile`. Resolves with the new avatar's `attachmentId`.
   * @param {File|Blob} image @param {{onProgress?: (fraction: number) => void}} [options]
   * @returns {Promise<string>}
   */
  async setAvatar(image, options = {}) {
    const bytes = await image.arrayBuffer();
    const body = { contentType: image.type, size: bytes.byteLength, sha256: await sha256Base64(bytes) };
    const upload = await this.http("/users/me/avatar", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await this.put(upload, bytes, options.onProgress);
    await this.updateProfile({ avatar: upload.attachmentId });
    return upload.attachmentId;
  }

  /** Removes this user's avatar. */
  removeAvatar() {
    return this.updateProfile({ avatar: "" });
  }

  /**
   * PUTs bytes to a presigned upload with its signed headers.
   * @param {{uploadUrl: string, uploadHeaders?: Record<string, unknown>}} upload @param {ArrayBuffer} bytes
   * @param {((fraction: number) => void) | undefined} onProgress
   */
  async put(upload, bytes, onProgress) {
    const headers = settableHeaders(upload.uploadHeaders);
    if (typeof XMLHttpRequest === "function") await putWithProgress(upload.uploadUrl, headers, bytes, onProgress);
    else await putWithFetch((url, init) => this.fetch(url, init), upload.uploadUrl, headers, bytes, onProgress);
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
    await this.put(upload, bytes, options.onProgress);
    /** @type {Attachment} */
    const attachment = { attachmentId: upload.attachmentId, fileName: body.fileName, contentType: body.contentType, size: body.size, sha256: body.sha256 };
    return attachment;
  }
}

/**
 * The presigned upload's signed headers but those the HTTP stack sets itself
 * (and a browser refuses to be told): `host` and `content-length`.
 * @param {Record<string, unknown> | undefined} headers @returns {Record<string, string>}
 */
function settableHeaders(headers) {
  return Object.fromEntries(
    Object.entries(headers ?? {})
      .filter(([name]) => !["host", "content-length"].includes(name.toLowerCase()))
      .map(([name, value]) => [name, String(value)]),
  );
}

/**
 * PUTs bytes with the signed headers through `fetch` (Node: no upload
 * progress there, so it reports 0 and then 1).
 * @param {(url: string, init: RequestInit) => Promise<Response>} fetch
 * @param {string} url @param {Record<string, string>} headers @param {ArrayBuffer} bytes
 * @param {((fraction: number) => void) | undefined} onProgress
 */
async function putWithFetch(fetch, url, headers, bytes, onProgress) {
  onProgress?.(0);
  let response;
  try {
    response = await fetch(url, { method: "PUT", headers, body: bytes });
  } catch (e) {
    throw new ChatError("upload_failed", `the upload did not reach S3: ${e}`);
  }
  if (response.status >= 300) throw new ChatError(String(response.status), `S3 refused the upload: ${await response.text()}`);
  onProgress?.(1);
}

/**
 * PUTs bytes with the signed headers, reporting progress (browsers:
 * XMLHttpRequest, since fetch reports no upload progress).
 * @param {string} url @param {Record<string, string>} headers @param {ArrayBuffer} bytes
 * @param {((fraction: number) => void) | undefined} onProgress @returns {Promise<void>}
 */
function putWithProgress(url, headers, bytes, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new ChatError(String(xhr.status), `S3 refused the upload: ${xhr.responseText}`)));
    xhr.onerror = () => reject(new ChatError("upload_failed", "the upload did not reach S3"));
    xhr.send(bytes);
  });
}
