/* tslint:disable */
/* eslint-disable */

/**
 * A device's Olm account: its identity keys and one-time keys.
 */
export class Account {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The session a pre-key message (type 0) from `identity_key` starts.
     */
    createInboundSession(identity_key: string, ciphertext: string): InboundCreation;
    /**
     * An Olm session with a device, from the key `claimKeys` handed out.
     */
    createOutboundSession(identity_key: string, one_time_key: string): Session;
    curve25519Key(): string;
    ed25519Key(): string;
    /**
     * The unpublished fallback key, `[{keyId, key}]` (empty or one) as JSON.
     */
    fallbackKey(): string;
    static fromPickle(pickle: string, key: Uint8Array | number[]): Account;
    generateFallbackKey(): void;
    generateOneTimeKeys(count: number): void;
    markKeysAsPublished(): void;
    constructor();
    /**
     * The unpublished one-time keys, `[{keyId, key}]` as JSON.
     */
    oneTimeKeys(): string;
    /**
     * The account, encrypted with the 32-byte `key` (to keep in IndexedDB).
     */
    pickle(key: Uint8Array | number[]): string;
}

export class Decrypted {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    messageIndex: number;
    plaintext: string;
}

/**
 * This device's Megolm session for a chat: what it encrypts with.
 */
export class GroupSession {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The Megolm message (base64) of `plaintext`.
     */
    encrypt(plaintext: string): string;
    static fromPickle(pickle: string, key: Uint8Array | number[]): GroupSession;
    constructor();
    pickle(key: Uint8Array | number[]): string;
    sessionId(): string;
    /**
     * The key at the current index (a device given it reads from here on).
     */
    sessionKey(): string;
}

/**
 * A session created from a pre-key message, and that message's plaintext.
 */
export class InboundCreation {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    plaintext: string;
    session: Session;
}

/**
 * Another device's Megolm session for a chat: what this one decrypts with.
 */
export class InboundGroupSession {
    free(): void;
    [Symbol.dispose](): void;
    decrypt(ciphertext: string): Decrypted;
    static fromPickle(pickle: string, key: Uint8Array | number[]): InboundGroupSession;
    constructor(session_key: string);
    pickle(key: Uint8Array | number[]): string;
    sessionId(): string;
}

/**
 * An Olm message: its type (0 pre-key, 1 normal) and base64 ciphertext.
 */
export class OlmCiphertext {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    ciphertext: string;
    olmType: number;
}

/**
 * An Olm session with one other device.
 */
export class Session {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    decrypt(olm_type: number, ciphertext: string): string;
    encrypt(plaintext: string): OlmCiphertext;
    static fromPickle(pickle: string, key: Uint8Array | number[]): Session;
    /**
     * Whether a pre-key message belongs to this session (and not a new one).
     */
    matchesPreKey(ciphertext: string): boolean;
    pickle(key: Uint8Array | number[]): string;
    sessionId(): string;
}

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_account_free: (a: number, b: number) => void;
    readonly __wbg_decrypted_free: (a: number, b: number) => void;
    readonly __wbg_get_decrypted_messageIndex: (a: number) => number;
    readonly __wbg_get_decrypted_plaintext: (a: number, b: number) => void;
    readonly __wbg_get_inboundcreation_plaintext: (a: number, b: number) => void;
    readonly __wbg_get_inboundcreation_session: (a: number) => number;
    readonly __wbg_get_olmciphertext_ciphertext: (a: number, b: number) => void;
    readonly __wbg_get_olmciphertext_olmType: (a: number) => number;
    readonly __wbg_groupsession_free: (a: number, b: number) => void;
    readonly __wbg_inboundcreation_free: (a: number, b: number) => void;
    readonly __wbg_inboundgroupsession_free: (a: number, b: number) => void;
    readonly __wbg_olmciphertext_free: (a: number, b: number) => void;
    readonly __wbg_session_free: (a: number, b: number) => void;
    readonly __wbg_set_decrypted_messageIndex: (a: number, b: number) => void;
    readonly __wbg_set_decrypted_plaintext: (a: number, b: number, c: number) => void;
    readonly __wbg_set_inboundcreation_plaintext: (a: number, b: number, c: number) => void;
    readonly __wbg_set_inboundcreation_session: (a: number, b: number) => void;
    readonly __wbg_set_olmciphertext_ciphertext: (a: number, b: number, c: number) => void;
    readonly __wbg_set_olmciphertext_olmType: (a: number, b: number) => void;
    readonly account_createInboundSession: (a: number, b: number, c: number, d: number, e: number, f: number) => void;
    readonly account_createOutboundSession: (a: number, b: number, c: number, d: number, e: number, f: number) => void;
    readonly account_curve25519Key: (a: number, b: number) => void;
    readonly account_ed25519Key: (a: number, b: number) => void;
    readonly account_fallbackKey: (a: number, b: number) => void;
    readonly account_fromPickle: (a: number, b: number, c: number, d: number, e: number) => void;
    readonly account_generateFallbackKey: (a: number) => void;
    readonly account_generateOneTimeKeys: (a: number, b: number) => void;
    readonly account_markKeysAsPublished: (a: number) => void;
    readonly account_new: () => number;
    readonly account_oneTimeKeys: (a: number, b: number) => void;
    readonly account_pickle: (a: number, b: number, c: number, d: number) => void;
    readonly groupsession_encrypt: (a: number, b: number, c: number, d: number) => void;
    readonly groupsession_fromPickle: (a: number, b: number, c: number, d: number, e: number) => void;
    readonly groupsession_new: () => number;
    readonly groupsession_pickle: (a: number, b: number, c: number, d: number) => void;
    readonly groupsession_sessionId: (a: number, b: number) => void;
    readonly groupsession_sessionKey: (a: number, b: number) => void;
    readonly inboundgroupsession_decrypt: (a: number, b: number, c: number, d: number) => void;
    readonly inboundgroupsession_fromPickle: (a: number, b: number, c: number, d: number, e: number) => void;
    readonly inboundgroupsession_new: (a: number, b: number, c: number) => void;
    readonly inboundgroupsession_pickle: (a: number, b: number, c: number, d: number) => void;
    readonly inboundgroupsession_sessionId: (a: number, b: number) => void;
    readonly session_decrypt: (a: number, b: number, c: number, d: number, e: number) => void;
    readonly session_encrypt: (a: number, b: number, c: number, d: number) => void;
    readonly session_fromPickle: (a: number, b: number, c: number, d: number, e: number) => void;
    readonly session_matchesPreKey: (a: number, b: number, c: number) => number;
    readonly session_pickle: (a: number, b: number, c: number, d: number) => void;
    readonly session_sessionId: (a: number, b: number) => void;
    readonly __wbindgen_export: (a: number) => void;
    readonly __wbindgen_export2: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_add_to_stack_pointer: (a: number) => number;
    readonly __wbindgen_export3: (a: number, b: number) => number;
    readonly __wbindgen_export4: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_export5: (a: number, b: number, c: number) => void;
    readonly __wbindgen_export6: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
