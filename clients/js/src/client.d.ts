/** A random id for a client message (unique per message; a retry reuses it). */
export function newClientMessageId(): string;
/** Base64 SHA-256 of some bytes, as S3's `x-amz-checksum-sha256` wants it. @param {ArrayBuffer} bytes */
export function sha256Base64(bytes: ArrayBuffer): Promise<string>;
export class ChatClient extends EventTarget {
    /** @param {ClientOptions} options */
    constructor(options: ClientOptions);
    options: {
        /**
         * `wss://…/prod` (the stack's `WebSocketUrl` output)
         */
        websocketUrl: string;
        /**
         * `https://…/prod` (the stack's `HttpApiUrl` output)
         */
        httpApiUrl: string;
        /**
         *   a token for this user and device, asked on every connect; `refresh` is
         *   true after the server refused the last one (the token-refresh hook)
         */
        getToken: (request: {
            refresh: boolean;
        }) => Promise<string>;
        /**
         * the signed-in user: pending sends (also those restored from the outbox) are shown as theirs
         */
        userId?: string | undefined;
        /**
         * how long a request waits for its reply (default 15 000)
         */
        requestTimeoutMs: number;
        /**
         * between heartbeats (default 300 000: 5 minutes)
         */
        heartbeatMs: number;
        /**
         * the longest pause between reconnects (default 30 000)
         */
        maxBackoffMs: number;
        /**
         * tries of one send before it is marked failed (default 20)
         */
        maxSendAttempts: number;
        /**
         * for runtimes without a global one (Node 20: the `ws` package's
         * default export, which has the same `onopen`, `onmessage`, `onerror`, `onclose`, `send`, `close` and `readyState`)
         */
        WebSocket?: (new (url: string) => WebSocket) | undefined;
        /**
         * instead of the global one
         */
        fetch?: typeof fetch | undefined;
        /**
         * where pending sends are kept (default: memory)
         */
        outbox?: import("./outbox.js").OutboxStore | undefined;
        /**
         * where the chat list and each chat's recent messages are kept
         * across page loads (`restoreCache()` reads them back; default: memory)
         */
        cache?: import("./cache.js").Cache | undefined;
    };
    /** @type {WebSocket|null} */
    socket: WebSocket | null;
    /** @type {Status} */
    status: Status;
    /** @type {Map<string, {resolve: (f: Frame) => void, reject: (e: Error) => void, timer: any}>} */
    waiting: Map<string, {
        resolve: (f: Frame) => void;
        reject: (e: Error) => void;
        timer: any;
    }>;
    /** @type {Map<string, ChatState>} */
    chats: Map<string, ChatState>;
    /** Ids of stored events already handled, oldest first (bounded: {@link SEEN_EVENTS}). @type {Set<string>} */
    seen: Set<string>;
    /** @type {string[]} */
    toAck: string[];
    /** @type {any} */
    ackTimer: any;
    /** @type {any} */
    heartbeatTimer: any;
    /** @type {any} */
    reconnectTimer: any;
    attempt: number;
    nextRequest: number;
    wanted: boolean;
    /** Sends waiting for an open socket. @type {Set<{resolve: () => void, reject: (e: Error) => void}>} */
    onOpen: Set<{
        resolve: () => void;
        reject: (e: Error) => void;
    }>;
    /** The server closed this connection for another of the same device. */
    replaced: boolean;
    /** The last token was refused: the next is asked for with `refresh`. */
    refused: boolean;
    /** @type {{resolve: () => void, reject: (e: Error) => void} | null} the pending `connect()` */
    connecting: {
        resolve: () => void;
        reject: (e: Error) => void;
    } | null;
    store: import("./outbox.js").OutboxStore;
    cache: import("./cache.js").Cache;
    /** Chats whose messages are to be written to the cache soon. @type {Set<string>} */
    unsaved: Set<string>;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    saveTimer: ReturnType<typeof setTimeout> | undefined;
    queue: SendQueue;
    /** clientMessageIds queued in this client (an entry restored from the store is queued once). @type {Set<string>} */
    queued: Set<string>;
    order: number;
    /**
     * A typed `addEventListener`: `listener` gets the event's `detail`.
     * @template {keyof ClientEvents} K
     * @param {K} type @param {(detail: ClientEvents[K]) => void} listener
     * @returns {() => void} removes the listener
     */
    on<K extends keyof ClientEvents>(type: K, listener: (detail: ClientEvents[K]) => void): () => void;
    /** @param {string} type @param {unknown} detail */
    emit(type: string, detail: unknown): void;
    /**
     * Connects, and keeps reconnecting until {@link close} (or until another
     * window of the same device takes the connection: status `replaced`; call
     * it again to take it back). Resolves once open and synced; rejects with
     * a {@link ChatError}: `unauthorized` (the token was refused, also after a
     * refresh), `no_websocket`, or `closed` (`close()` was called first).
     * Sends restored from the outbox show as pending before it resolves.
     * @returns {Promise<void>}
     */
    connect(): Promise<void>;
    /** @param {ChatError} [error] resolves the pending `connect()` without one */
    settleConnect(error?: ChatError): void;
    /**
     * Closes the socket and stops reconnecting. Everything pending settles:
     * requests reject with `closed`, and so do sends (they stay in the
     * outbox, and a later `connect()` — of this client or of one with the
     * same outbox store — sends them).
     */
    close(): void;
    /** @param {() => ChatError} error */
    rejectWaiting(error: () => ChatError): void;
    /** @param {Status} status */
    setStatus(status: Status): void;
    open(): Promise<void>;
    /**
     * A socket is gone (closed by either side, or found dead). One that never
     * opened may have been refused its token: asked of the HTTP API, which
     * answers the same token with a status a browser's WebSocket does not show.
     * @param {WebSocket} socket @param {string|null} handshakeFailure `null` if it had opened @param {string} token
     */
    closed(socket: WebSocket, handshakeFailure: string | null, token: string): Promise<void>;
    /** @param {string} failure what the runtime said of the failed handshake @param {string} token */
    tokenRefused(failure: string, token: string): Promise<boolean>;
    /** A heartbeat (presence), answered: no answer in time means the socket is dead. @param {WebSocket} socket */
    beat(socket: WebSocket): void;
    /** Exponential backoff with full jitter: a crowd of clients does not come back at once. */
    scheduleReconnect(): void;
    /** Replays this device's inbox (unacknowledged frames), page by page. */
    syncAll(): Promise<void>;
    /** @param {Record<string, unknown>} frame @returns {boolean} whether it went out */
    send(frame: Record<string, unknown>): boolean;
    /**
     * Sends `action` with a `requestId` and resolves with its reply frame.
     * @param {string} action @param {Record<string, unknown>} [fields] @returns {Promise<Frame>}
     */
    request(action: string, fields?: Record<string, unknown>): Promise<Frame>;
    /** @param {string} text */
    receive(text: string): void;
    /** @param {Frame} frame */
    handle(frame: Frame): void;
    /** @param {string} chatId */
    changed(chatId: string): void;
    /** Writes the changed chats' newest messages to the cache (best effort: a cache is no store). */
    saveChats(): Promise<void>;
    /**
     * What the cache holds from an earlier page: each cached chat's messages
     * are put back into its `ChatState`, and the chat list as it was last
     * fetched is returned (null when none was), for an app to show before the
     * network answers.
     * @returns {Promise<import("./protocol.js").ChatSummary[] | null>}
     */
    restoreCache(): Promise<import("./protocol.js").ChatSummary[] | null>;
    /** Empties the cache (signing out). */
    clearCache(): Promise<void>;
    /** Acknowledges a frame soon (one `ack` per 100 ids or 50 ms). @param {string} id */
    ack(id: string): void;
    flushAcks(): void;
    /** The state of one chat (created empty). @param {string} chatId */
    chat(chatId: string): ChatState;
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
    sendMessage(chatId: string, text: string, extra?: {
        attachments?: Attachment[];
        replyTo?: number;
        clientMessageId?: string;
        senderId?: string;
    }): Promise<Frame>;
    /**
     * Sends the outbox's entries this client has not queued yet (written by an
     * earlier page or process), oldest first. Failed ones are shown, not sent.
     */
    restore(): Promise<void | undefined>;
    /** Sends a failed message again. @param {string} chatId @param {string} clientMessageId */
    retry(chatId: string, clientMessageId: string): Promise<Frame>;
    /** Drops a failed message from the outbox. @param {string} chatId @param {string} clientMessageId */
    discard(chatId: string, clientMessageId: string): Promise<void>;
    /** @param {OutboxEntry} entry @param {string} senderId @param {string} [failed] */
    showPending(entry: OutboxEntry, senderId: string, failed?: string): void;
    /** Queues an outbox entry behind the chat's earlier sends. @param {OutboxEntry} entry @param {string} senderId */
    enqueue(entry: OutboxEntry, senderId: string): Promise<Frame>;
    /**
     * Waits `ms` if the socket is open, else until it opens (and is synced);
     * rejects with `closed` if the client is closed first.
     * @param {number} ms
     * @returns {Promise<void>}
     */
    untilOpen(ms: number): Promise<void>;
    /** @param {string[]} participants @param {string} [name] */
    createChat(participants: string[], name?: string): Promise<Frame>;
    /** @param {string} chatId @param {string} userId @param {"ADD"|"REMOVE"|"PROMOTE"|"DEMOTE"} operation */
    modifyParticipants(chatId: string, userId: string, operation: "ADD" | "REMOVE" | "PROMOTE" | "DEMOTE"): Promise<Frame>;
    /** @param {string} chatId @param {number} upToSeq */
    markRead(chatId: string, upToSeq: number): Promise<Frame>;
    /** @param {string} chatId */
    acceptChat(chatId: string): Promise<Frame>;
    /**
     * Deletes the chat for this user (a 1-1 chat or request, or a group they
     * left): it leaves their list and history up to now, on every device.
     * @param {string} chatId
     */
    deleteChat(chatId: string): Promise<Frame>;
    /** @param {string} chatId @param {number} seq @param {string} message */
    editMessage(chatId: string, seq: number, message: string): Promise<Frame>;
    /** @param {string} chatId @param {number} seq @param {boolean} forEveryone */
    deleteMessage(chatId: string, seq: number, forEveryone: boolean): Promise<Frame>;
    /** @param {string} chatId @param {number} seq @param {string|null} emoji */
    react(chatId: string, seq: number, emoji: string | null): Promise<Frame>;
    /** @param {string} chatId @param {boolean} typing */
    typing(chatId: string, typing: boolean): boolean;
    /** @param {string[]} userIds */
    subscribePresence(userIds: string[]): Promise<Frame>;
    /** This user's registered devices (and whether this one is: a device past the limit connects unregistered). */
    listDevices(): Promise<Frame>;
    /**
     * Signs a device out (another one, or this one without `deviceId`): its
     * tokens are revoked and its inbox discarded.
     * @param {string} [deviceId]
     */
    unregisterDevice(deviceId?: string): Promise<Frame>;
    /** @param {{displayName?: string, about?: string, avatar?: string}} profile */
    updateProfile(profile: {
        displayName?: string;
        about?: string;
        avatar?: string;
    }): Promise<Frame>;
    /** The platform's `fetch`, or the one in the options. @param {string} url @param {RequestInit} [init] */
    fetch(url: string, init?: RequestInit): Promise<Response>;
    /** @param {string} path @param {RequestInit} [init] */
    http(path: string, init?: RequestInit): Promise<any>;
    /**
     * A page of history (ascending seq), folded into the chat's state.
     * @param {string} chatId @param {{before?: number, after?: number, limit?: number}} [query]
     */
    history(chatId: string, query?: {
        before?: number;
        after?: number;
        limit?: number;
    }): Promise<any>;
    /** The chat list, most recently active first. @param {{cursor?: string, limit?: number}} [query] */
    chatList(query?: {
        cursor?: string;
        limit?: number;
    }): Promise<any>;
    /** @param {string} chatId */
    chatDetails(chatId: string): Promise<any>;
    /** @param {string} userId */
    user(userId: string): Promise<any>;
    /** A presigned download (`url`, valid a few minutes) of an attachment. @param {string} chatId @param {string} attachmentId */
    download(chatId: string, attachmentId: string): Promise<any>;
    /**
     * A presigned download of a user's avatar (`url`, valid a few minutes), for
     * whoever may see their profile; `not_found` when they have none.
     * @param {string} userId
     */
    avatar(userId: string): Promise<any>;
    /**
     * Uploads an image (JPEG, PNG, WebP or GIF, at most 5 MB) and makes it this
     * user's avatar: `POST /users/me/avatar`, the PUT to its presigned URL, then
     * `updateProfile`. Resolves with the new avatar's `attachmentId`.
     * @param {File|Blob} image @param {{onProgress?: (fraction: number) => void}} [options]
     * @returns {Promise<string>}
     */
    setAvatar(image: File | Blob, options?: {
        onProgress?: (fraction: number) => void;
    }): Promise<string>;
    /** Removes this user's avatar. */
    removeAvatar(): Promise<Frame>;
    /**
     * PUTs bytes to a presigned upload with its signed headers.
     * @param {{uploadUrl: string, uploadHeaders?: Record<string, unknown>}} upload @param {ArrayBuffer} bytes
     * @param {((fraction: number) => void) | undefined} onProgress
     */
    put(upload: {
        uploadUrl: string;
        uploadHeaders?: Record<string, unknown>;
    }, bytes: ArrayBuffer, onProgress: ((fraction: number) => void) | undefined): Promise<void>;
    /**
     * Uploads a file through its presigned URL; resolves with the attachment
     * (send it, or its `attachmentId`, in a message's `attachments`).
     * @param {string} chatId @param {File|Blob} file
     * @param {{fileName?: string, onProgress?: (fraction: number) => void}} [options]
     */
    upload(chatId: string, file: File | Blob, options?: {
        fileName?: string;
        onProgress?: (fraction: number) => void;
    }): Promise<import("./protocol.js").AttachmentView>;
}
export type Message = import("./chat-state.js").Message;
export type Attachment = import("./protocol.js").AttachmentView;
export type ServerFrame = import("./protocol.js").Reply;
export type OutboxEntry = import("./outbox.js").OutboxEntry;
/**
 * a server frame as parsed, before its type is known
 */
export type Frame = {
    type: string;
    requestId?: string;
    [field: string]: any;
};
/**
 * `replaced`: another window of the same device took the connection;
 * `unauthorized`: the server refused the token (also a refreshed one).
 * Neither reconnects by itself: `connect()` does.
 */
export type Status = "idle" | "connecting" | "open" | "closed" | "replaced" | "unauthorized";
/**
 * Every event, by name, with its `detail`: one per server frame `type`,
 * and the client's own.
 */
export type ClientEvents = { [K in ServerFrame["type"]]: Extract<ServerFrame, {
    type: K;
}>; } & {
    frame: ServerFrame;
    chat: {
        chatId: string;
    };
    status: Status;
    synced: null;
    outbox: {
        chatId: string;
    };
    sent: Message;
    auth: ChatError;
};
export type ClientOptions = {
    /**
     * `wss://…/prod` (the stack's `WebSocketUrl` output)
     */
    websocketUrl: string;
    /**
     * `https://…/prod` (the stack's `HttpApiUrl` output)
     */
    httpApiUrl: string;
    /**
     *   a token for this user and device, asked on every connect; `refresh` is
     *   true after the server refused the last one (the token-refresh hook)
     */
    getToken: (request: {
        refresh: boolean;
    }) => Promise<string>;
    /**
     * the signed-in user: pending sends (also those restored from the outbox) are shown as theirs
     */
    userId?: string | undefined;
    /**
     * how long a request waits for its reply (default 15 000)
     */
    requestTimeoutMs?: number | undefined;
    /**
     * between heartbeats (default 300 000: 5 minutes)
     */
    heartbeatMs?: number | undefined;
    /**
     * the longest pause between reconnects (default 30 000)
     */
    maxBackoffMs?: number | undefined;
    /**
     * tries of one send before it is marked failed (default 20)
     */
    maxSendAttempts?: number | undefined;
    /**
     * for runtimes without a global one (Node 20: the `ws` package's
     * default export, which has the same `onopen`, `onmessage`, `onerror`, `onclose`, `send`, `close` and `readyState`)
     */
    WebSocket?: (new (url: string) => WebSocket) | undefined;
    /**
     * instead of the global one
     */
    fetch?: typeof fetch | undefined;
    /**
     * where pending sends are kept (default: memory)
     */
    outbox?: import("./outbox.js").OutboxStore | undefined;
    /**
     * where the chat list and each chat's recent messages are kept
     * across page loads (`restoreCache()` reads them back; default: memory)
     */
    cache?: import("./cache.js").Cache | undefined;
};
import { ChatState } from "./chat-state.js";
import { SendQueue } from "./outbox.js";
import { ChatError } from "./errors.js";
