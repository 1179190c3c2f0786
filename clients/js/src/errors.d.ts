/**
 * The one error type the client rejects with: a refusal by the server (its
 * `code` is the protocol's error code, docs/protocol.md) or one of the
 * client's own, whose codes are listed in {@link CLIENT_CODES}.
 * @module errors
 */
/**
 * Codes the client itself gives (the server never sends these):
 * - `disconnected`: the socket closed before the reply (retried by `sendMessage`);
 * - `timeout`: no reply within `requestTimeoutMs` (retried by `sendMessage`);
 * - `closed`: `close()` was called while this was pending;
 * - `unauthorized`: the server refused the token (HTTP 401 or 403), also after a refresh;
 * - `no_websocket`: the runtime has no `WebSocket` and none was passed in the options;
 * - `upload_failed`: the upload did not reach S3; an HTTP status (`"403"`) when S3 refused it.
 */
export const CLIENT_CODES: readonly string[];
/** Errors a retry with the same ids may get past. */
export const RETRYABLE: Readonly<Set<string>>;
/** A request refused by the server or the client: `code` says why. */
export class ChatError extends Error {
    /** @param {string} code @param {string} message @param {number} [retryAfter] */
    constructor(code: string, message: string, retryAfter?: number);
    /** @type {string} */
    code: string;
    /** Seconds to wait before retrying (`rate_limited`, `unavailable`). @type {number|undefined} */
    retryAfter: number | undefined;
    /** Whether sending the same request again (same ids) may succeed. */
    get retryable(): boolean;
}
