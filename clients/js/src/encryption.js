// @ts-check
/**
 * End-to-end encryption for one device (docs/e2ee.md), over a connected
 * {@link import("./client.js").ChatClient}: the device's Olm account and its
 * keys on the server, a Megolm session per encrypted chat shared with every
 * device of the chat's members (`getDeviceKeys`, `claimKeys`,
 * `sendToDevice`, again whenever the server answers `devices_changed`, a new
 * session when a device left), envelopes sealed and opened, session keys
 * taken in from `toDevice` frames. The cryptography is vodozemac compiled to
 * wasm (`@serverless-chat/client/crypto`), passed in: this module holds no
 * primitive of its own.
 *
 * State (the account, Olm sessions, this device's Megolm sessions and the
 * session keys it holds) is kept as pickles encrypted under the app's
 * 32-byte `pickleKey`, in the `store` given (IndexedDB in a browser; memory
 * by default), so a reload keeps what this device can read and never
 * encrypts at a Megolm index it used already.
 *
 * @module encryption
 */

import { ChatError } from "./errors.js";

/** One-time keys kept on the server; topped up when fewer are left. */
const ONE_TIME_KEYS = 50;
const TOP_UP_BELOW = 10;
/** `sendToDevice` messages per request, within a frame under 32 KB. */
const TO_DEVICE_MESSAGES = 100;
const TO_DEVICE_FRAME_BYTES = 28 * 1024;
/** `claimKeys` devices per request. */
const CLAIMS = 300;

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
export function memoryKeyStore() {
  /** @type {Map<string, string>} */
  const values = new Map();
  return {
    get: async (key) => values.get(key),
    set: async (key, value) => {
      values.set(key, value);
    },
  };
}

/**
 * What a request needs: `ChatClient.request`.
 * @typedef {(action: string, fields?: Record<string, unknown>) => Promise<any>} Request
 */

/**
 * @typedef {Object} EncryptionOptions
 * @property {Vodozemac} vodozemac  the initialised wasm module
 * @property {Request} request      sends a request frame, resolves its reply
 * @property {string} userId
 * @property {string} deviceId
 * @property {Uint8Array} pickleKey 32 bytes the app keeps (a browser: a non-extractable key's derivation, or the platform keystore)
 * @property {KeyStore} [store]
 */

/** A device of a chat's members: `user/device`. @param {string} user @param {string} device */
const name = (user, device) => `${user}/${device}`;

export class Encryption {
  /** @param {EncryptionOptions} options */
  constructor(options) {
    this.options = options;
    this.v = options.vodozemac;
    this.store = options.store ?? memoryKeyStore();
    /** @type {any} */
    this.account = undefined;
    /** Whether the account is new (its identity keys not uploaded yet). */
    this.fresh = false;
    /** Olm sessions by the other device's Curve25519 key, newest first. @type {Map<string, any[]>} */
    this.olm = new Map();
    /** Outbound Megolm sessions by chat. @type {Map<string, {session: any, digest: string, sharedWith: Set<string>}>} */
    this.outbound = new Map();
    /** Inbound Megolm sessions by session id. @type {Map<string, any>} */
    this.inbound = new Map();
  }

  /**
   * Loads this device's account from the store, or creates one: before
   * connecting, so the session keys the first `sync` brings are read.
   */
  async load() {
    if (this.account) return;
    const saved = await this.store.get("account");
    this.fresh = !saved;
    this.account = saved ? this.v.Account.fromPickle(saved, this.options.pickleKey) : new this.v.Account();
  }

  /**
   * Once connected: makes sure the server has this device's identity keys
   * and enough one-time keys.
   */
  async start() {
    await this.load();
    const count = await this.upload(this.fresh);
    this.fresh = false;
    if (count < TOP_UP_BELOW) await this.upload(false, ONE_TIME_KEYS - count);
  }

  /** Uploads the identity keys (first time), `count` new one-time keys and a fallback key; the server's count. */
  async upload(first = false, count = first ? ONE_TIME_KEYS : 0) {
    /** @type {Record<string, unknown>} */
    const fields = {};
    if (first) fields.identityKeys = { curve25519: this.account.curve25519Key(), ed25519: this.account.ed25519Key() };
    if (count > 0) {
      this.account.generateOneTimeKeys(count);
      fields.oneTimeKeys = JSON.parse(this.account.oneTimeKeys());
      this.account.generateFallbackKey();
      fields.fallbackKey = JSON.parse(this.account.fallbackKey())[0];
    }
    const reply = await this.options.request("uploadKeys", fields);
    this.account.markKeysAsPublished();
    await this.save();
    return /** @type {number} */ (reply.oneTimeKeyCount);
  }

  async save() {
    await this.store.set("account", this.account.pickle(this.options.pickleKey));
  }

  // ---- sessions kept in the store, so a reload reads and writes on

  /** @param {string} identityKey */
  async saveOlm(identityKey) {
    const sessions = this.olm.get(identityKey) ?? [];
    await this.store.set(`olm:${identityKey}`, JSON.stringify(sessions.map((s) => s.pickle(this.options.pickleKey))));
  }

  /** The Olm sessions with a device, from memory or the store. @param {string} identityKey */
  async olmWith(identityKey) {
    let sessions = this.olm.get(identityKey);
    if (!sessions) {
      const saved = await this.store.get(`olm:${identityKey}`);
      sessions = saved ? JSON.parse(saved).map((/** @type {string} */ p) => this.v.Session.fromPickle(p, this.options.pickleKey)) : [];
      this.olm.set(identityKey, /** @type {any[]} */ (sessions));
    }
    return /** @type {any[]} */ (sessions);
  }

  /** @param {string} chatId */
  async saveOutbound(chatId) {
    const outbound = this.outbound.get(chatId);
    if (!outbound) return;
    const saved = { pickle: outbound.session.pickle(this.options.pickleKey), digest: outbound.digest, sharedWith: [...outbound.sharedWith] };
    await this.store.set(`outbound:${chatId}`, JSON.stringify(saved));
  }

  /** The chat's outbound session, from memory or the store. @param {string} chatId */
  async outboundOf(chatId) {
    if (!this.outbound.has(chatId)) {
      const saved = await this.store.get(`outbound:${chatId}`);
      if (saved) {
        const { pickle, digest, sharedWith } = JSON.parse(saved);
        this.outbound.set(chatId, { session: this.v.GroupSession.fromPickle(pickle, this.options.pickleKey), digest, sharedWith: new Set(sharedWith) });
      }
    }
    return this.outbound.get(chatId);
  }

  /** @param {string} sessionId @param {any} session */
  async keepInbound(sessionId, session) {
    this.inbound.set(sessionId, session);
    await this.store.set(`inbound:${sessionId}`, session.pickle(this.options.pickleKey));
  }

  /** A session key this device holds, from memory or the store. @param {string} sessionId */
  async inboundOf(sessionId) {
    if (!this.inbound.has(sessionId)) {
      const saved = await this.store.get(`inbound:${sessionId}`);
      if (saved) this.inbound.set(sessionId, this.v.InboundGroupSession.fromPickle(saved, this.options.pickleKey));
    }
    return this.inbound.get(sessionId);
  }

  /**
   * Shares the chat's outbound session with every device listed now (a new
   * session when a device it was shared with is gone); the digest to send with.
   * @param {string} chatId
   */
  async share(chatId) {
    const listed = await this.options.request("getDeviceKeys", { chatId });
    const me = name(this.options.userId, this.options.deviceId);
    /** @type {{userId: string, deviceId: string, identityKeys: {curve25519: string}}[]} */
    const devices = listed.devices.filter((/** @type {any} */ d) => name(d.userId, d.deviceId) !== me);
    const names = new Set(devices.map((d) => name(d.userId, d.deviceId)));
    let outbound = await this.outboundOf(chatId);
    if (!outbound || [...outbound.sharedWith].some((d) => !names.has(d))) {
      const session = new this.v.GroupSession();
      // This device reads its own messages (history) with the same key.
      await this.keepInbound(session.sessionId(), new this.v.InboundGroupSession(session.sessionKey()));
      outbound = { session, digest: "", sharedWith: new Set() };
      this.outbound.set(chatId, outbound);
    }
    const shared = outbound;
    const missing = devices.filter((d) => !shared.sharedWith.has(name(d.userId, d.deviceId)));
    /** @type {typeof missing} */
    const unknown = [];
    for (const d of missing) if ((await this.olmWith(d.identityKeys.curve25519)).length === 0) unknown.push(d);
    for (let i = 0; i < unknown.length; i += CLAIMS) {
      const chunk = unknown.slice(i, i + CLAIMS).map((d) => ({ userId: d.userId, deviceId: d.deviceId }));
      const claimed = await this.options.request("claimKeys", { chatId, devices: chunk });
      for (const key of claimed.keys) {
        const session = this.account.createOutboundSession(key.identityKeys.curve25519, key.key);
        this.olm.set(key.identityKeys.curve25519, [session, ...(await this.olmWith(key.identityKeys.curve25519))]);
      }
    }
    const roomKey = JSON.stringify({ chatId, sessionId: outbound.session.sessionId(), sessionKey: outbound.session.sessionKey() });
    /** @type {Record<string, unknown>[]} */
    const messages = [];
    for (const d of missing) {
      const session = this.olm.get(d.identityKeys.curve25519)?.[0];
      if (!session) continue;
      const sealed = session.encrypt(roomKey);
      await this.saveOlm(d.identityKeys.curve25519);
      messages.push({ userId: d.userId, deviceId: d.deviceId, olmType: sealed.olmType, ciphertext: sealed.ciphertext });
      outbound.sharedWith.add(name(d.userId, d.deviceId));
    }
    for (const frame of batches(messages)) await this.options.request("sendToDevice", { chatId, messages: frame });
    outbound.digest = listed.digest;
    await this.saveOutbound(chatId);
    return /** @type {string} */ (listed.digest);
  }

  /**
   * The fields of an encrypted `sendMessage` for `body` (`{text, files?}`):
   * the envelope and the device list's digest. Shares first when needed;
   * call again after `devices_changed` with `reshare`.
   * @param {string} chatId @param {Record<string, unknown>} body @param {boolean} [reshare]
   */
  async seal(chatId, body, reshare = false) {
    let outbound = await this.outboundOf(chatId);
    if (!outbound?.digest || reshare) {
      await this.share(chatId);
      outbound = this.outbound.get(chatId);
    }
    if (!outbound) throw new ChatError("internal", "no session for the chat");
    const envelope = `megolm.v1:${outbound.session.sessionId()}:${outbound.session.encrypt(JSON.stringify(body))}`;
    // Kept at its new index before the envelope leaves: a reload must never encrypt at an index used already.
    await this.saveOutbound(chatId);
    return { message: envelope, devices: outbound.digest };
  }

  /**
   * Sends `text` into an encrypted chat (sharing the session as needed, and
   * again when the chat's devices changed); the server's reply.
   * @param {string} chatId @param {string} clientMessageId @param {Record<string, unknown>} body
   * @param {Record<string, unknown>} [extra]  other `sendMessage` fields (attachments, replyTo, mentions)
   */
  async send(chatId, clientMessageId, body, extra = {}) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const sealed = await this.seal(chatId, body, attempt > 0);
      try {
        return await this.options.request("sendMessage", { chatId, clientMessageId, ...extra, ...sealed });
      } catch (e) {
        if (!(e instanceof ChatError) || e.code !== "devices_changed") throw e;
      }
    }
    throw new ChatError("devices_changed", "the chat's devices kept changing");
  }

  /**
   * Takes in a `toDevice` frame: the session key it carries. Resolves with
   * the session id it added, if any (messages waiting for it can be opened).
   * @param {{senderId: string, senderKey: string, olmType: number, ciphertext: string}} frame
   */
  async receive(frame) {
    const plaintext = await this.olmDecrypt(frame.senderKey, frame.olmType, frame.ciphertext);
    if (plaintext === undefined) return undefined;
    /** @type {{sessionId?: string, sessionKey?: string}} */
    let key;
    try {
      key = JSON.parse(plaintext);
    } catch {
      return undefined;
    }
    if (!key.sessionId || !key.sessionKey || (await this.inboundOf(key.sessionId))) return undefined;
    let session;
    try {
      session = new this.v.InboundGroupSession(key.sessionKey);
    } catch {
      return undefined;
    }
    await this.keepInbound(key.sessionId, session);
    return key.sessionId;
  }

  /** @param {string} senderKey @param {number} olmType @param {string} ciphertext @returns {Promise<string | undefined>} */
  async olmDecrypt(senderKey, olmType, ciphertext) {
    const sessions = await this.olmWith(senderKey);
    for (const session of sessions) {
      if (olmType === 0 && !session.matchesPreKey(ciphertext)) continue;
      try {
        const plaintext = session.decrypt(olmType, ciphertext);
        await this.saveOlm(senderKey);
        return plaintext;
      } catch {
        // another session's, or a repeat
      }
    }
    if (olmType !== 0) return undefined;
    try {
      const created = this.account.createInboundSession(senderKey, ciphertext);
      this.olm.set(senderKey, [created.session, ...sessions]);
      // The one-time key it used is gone from the account: saved with the session.
      await this.saveOlm(senderKey);
      await this.save();
      return created.plaintext;
    } catch {
      return undefined;
    }
  }

  /**
   * The body of an envelope (`{text, files?}`), or `undefined` while this
   * device has no key for it (not yet arrived, or sent before it could read).
   * @param {string} envelope
   * @returns {Promise<Record<string, any> | undefined>}
   */
  async open(envelope) {
    const [algorithm, sessionId, ciphertext] = envelope.split(":");
    if (algorithm !== "megolm.v1" || !ciphertext) return undefined;
    const session = await this.inboundOf(sessionId);
    if (!session) return undefined;
    try {
      return JSON.parse(session.decrypt(ciphertext).plaintext);
    } catch {
      return undefined;
    }
  }
}

/**
 * `sendToDevice` batches: at most 100 messages, each frame under 32 KB.
 * @param {Record<string, unknown>[]} messages
 */
function batches(messages) {
  /** @type {Record<string, unknown>[][]} */
  const out = [];
  let batch = [];
  let bytes = 0;
  for (const message of messages) {
    const size = JSON.stringify(message).length + 1;
    if (batch.length && (batch.length === TO_DEVICE_MESSAGES || bytes + size > TO_DEVICE_FRAME_BYTES)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += size;
  }
  if (batch.length) out.push(batch);
  return out;
}
