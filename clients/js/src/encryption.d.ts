/**
 * The vodozemac wasm module's classes (`@serverless-chat/client/crypto`, initialised).
 * @typedef {any} Vodozemac
 */
/**
 * Where pickles are kept: string values by key.
 * @typedef {Object} KeyStore
 * @property {(key: string) => Promise<string | undefined>} get
 * @property {(key: string, value: string) => Promise<void>} set
 */
/** @returns {KeyStore} */
export function memoryKeyStore(): KeyStore;
export class Encryption {
    /** @param {EncryptionOptions} options */
    constructor(options: EncryptionOptions);
    options: EncryptionOptions;
    v: any;
    store: KeyStore;
    /** @type {any} */
    account: any;
    /** Whether the account is new (its identity keys not uploaded yet). */
    fresh: boolean;
    /** Olm sessions by the other device's Curve25519 key, newest first. @type {Map<string, any[]>} */
    olm: Map<string, any[]>;
    /** Outbound Megolm sessions by chat. @type {Map<string, {session: any, digest: string, sharedWith: Set<string>}>} */
    outbound: Map<string, {
        session: any;
        digest: string;
        sharedWith: Set<string>;
    }>;
    /** Inbound Megolm sessions by session id. @type {Map<string, any>} */
    inbound: Map<string, any>;
    /**
     * Loads this device's account from the store, or creates one: before
     * connecting, so the session keys the first `sync` brings are read.
     */
    load(): Promise<void>;
    /**
     * Once connected: makes sure the server has this device's identity keys
     * and enough one-time keys.
     */
    start(): Promise<void>;
    /** Uploads the identity keys (first time), `count` new one-time keys and a fallback key; the server's count. */
    upload(first?: boolean, count?: number): Promise<number>;
    save(): Promise<void>;
    /** @param {string} identityKey */
    saveOlm(identityKey: string): Promise<void>;
    /** The Olm sessions with a device, from memory or the store. @param {string} identityKey */
    olmWith(identityKey: string): Promise<any[]>;
    /** @param {string} chatId */
    saveOutbound(chatId: string): Promise<void>;
    /** The chat's outbound session, from memory or the store. @param {string} chatId */
    outboundOf(chatId: string): Promise<{
        session: any;
        digest: string;
        sharedWith: Set<string>;
    } | undefined>;
    /** @param {string} sessionId @param {any} session */
    keepInbound(sessionId: string, session: any): Promise<void>;
    /** A session key this device holds, from memory or the store. @param {string} sessionId */
    inboundOf(sessionId: string): Promise<any>;
    /**
     * Shares the chat's outbound session with every device listed now (a new
     * session when a device it was shared with is gone); the digest to send with.
     * @param {string} chatId
     */
    share(chatId: string): Promise<string>;
    /**
     * The fields of an encrypted `sendMessage` for `body` (`{text, files?}`):
     * the envelope and the device list's digest. Shares first when needed;
     * call again after `devices_changed` with `reshare`.
     * @param {string} chatId @param {Record<string, unknown>} body @param {boolean} [reshare]
     */
    seal(chatId: string, body: Record<string, unknown>, reshare?: boolean): Promise<{
        message: string;
        devices: string;
    }>;
    /**
     * Sends `text` into an encrypted chat (sharing the session as needed, and
     * again when the chat's devices changed); the server's reply.
     * @param {string} chatId @param {string} clientMessageId @param {Record<string, unknown>} body
     * @param {Record<string, unknown>} [extra]  other `sendMessage` fields (attachments, replyTo, mentions)
     */
    send(chatId: string, clientMessageId: string, body: Record<string, unknown>, extra?: Record<string, unknown>): Promise<any>;
    /**
     * Takes in a `toDevice` frame: the session key it carries. Resolves with
     * the session id it added, if any (messages waiting for it can be opened).
     * @param {{senderId: string, senderKey: string, olmType: number, ciphertext: string}} frame
     */
    receive(frame: {
        senderId: string;
        senderKey: string;
        olmType: number;
        ciphertext: string;
    }): Promise<string | undefined>;
    /** @param {string} senderKey @param {number} olmType @param {string} ciphertext @returns {Promise<string | undefined>} */
    olmDecrypt(senderKey: string, olmType: number, ciphertext: string): Promise<string | undefined>;
    /**
     * The body of an envelope (`{text, files?}`), or `undefined` while this
     * device has no key for it (not yet arrived, or sent before it could read).
     * @param {string} envelope
     * @returns {Promise<Record<string, any> | undefined>}
     */
    open(envelope: string): Promise<Record<string, any> | undefined>;
}
/**
 * The vodozemac wasm module's classes (`@serverless-chat/client/crypto`, initialised).
 */
export type Vodozemac = any;
/**
 * Where pickles are kept: string values by key.
 */
export type KeyStore = {
    get: (key: string) => Promise<string | undefined>;
    set: (key: string, value: string) => Promise<void>;
};
/**
 * What a request needs: `ChatClient.request`.
 */
export type Request = (action: string, fields?: Record<string, unknown>) => Promise<any>;
export type EncryptionOptions = {
    /**
     * the initialised wasm module
     */
    vodozemac: Vodozemac;
    /**
     * sends a request frame, resolves its reply
     */
    request: Request;
    userId: string;
    deviceId: string;
    /**
     * 32 bytes the app keeps (a browser: a non-extractable key's derivation, or the platform keystore)
     */
    pickleKey: Uint8Array;
    store?: KeyStore | undefined;
};
