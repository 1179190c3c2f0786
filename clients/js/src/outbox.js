// @ts-check
import { idbStore } from "./idb.js";

/**
 * Where sends wait until the server has answered them: kept in a store so
 * that a message written offline, or pending when the page reloads or the
 * process exits, is sent afterwards — once, with its `clientMessageId`, in
 * the order it was written (the server stores a `clientMessageId` once
 * however often it is sent).
 *
 * A store is three methods; two come with the client: {@link memoryOutbox}
 * (the default: a process's life) and {@link indexedDbOutbox} (browsers).
 * Node apps pass their own (a file, SQLite, …), or `fileOutbox` from
 * `@serverless-chat/client/file-outbox`.
 * @module outbox
 */

/**
 * A send as the outbox keeps it.
 * @typedef {Object} OutboxEntry
 * @property {string} clientMessageId
 * @property {string} chatId
 * @property {string} message
 * @property {import("./protocol.js").AttachmentView[]} attachments  as `upload()` resolved them
 * @property {number} [replyTo]
 * @property {number} order  increasing in the order the sends were written
 * @property {number} writtenAt  milliseconds since the epoch
 * @property {string} [failed]  the error code of a refusal: kept for the app to retry or discard, never sent by itself
 */

/**
 * @typedef {Object} OutboxStore
 * @property {() => Promise<OutboxEntry[]>} load  every entry, in any order
 * @property {(entry: OutboxEntry) => Promise<void>} put  adds or replaces (by `clientMessageId`)
 * @property {(clientMessageId: string) => Promise<void>} delete
 */

/** An outbox kept in memory: it lasts as long as the process or page. @returns {OutboxStore} */
export function memoryOutbox() {
  /** @type {Map<string, OutboxEntry>} */
  const entries = new Map();
  return {
    load: async () => [...entries.values()].map((e) => ({ ...e })),
    put: async (entry) => void entries.set(entry.clientMessageId, { ...entry }),
    delete: async (id) => void entries.delete(id),
  };
}

/**
 * An outbox in the browser's IndexedDB: it survives reloads and restarts.
 * Name it after the signed-in user and device (two accounts in one browser
 * keep two outboxes).
 * @param {string} name  the database's name
 * @param {IDBFactory} [factory]  `indexedDB` unless given
 * @returns {OutboxStore}
 */
export function indexedDbOutbox(name, factory = globalThis.indexedDB) {
  const run = idbStore(factory, name, "outbox", { keyPath: "clientMessageId" });
  return {
    load: () => run("readonly", (store) => store.getAll()),
    put: async (entry) => void (await run("readwrite", (store) => store.put(entry))),
    delete: async (id) => void (await run("readwrite", (store) => store.delete(id))),
  };
}

/**
 * Orders a chat's sends: each starts once the one before it has its answer
 * (the server gives seqs in the order sends arrive, so sends in flight
 * together could be stored in any order). Chats do not wait on each other.
 */
export class SendQueue {
  constructor() {
    /** @type {Map<string, Promise<unknown>>} the last send of each chat */
    this.tails = new Map();
  }

  /**
   * Runs `send` after every send queued before it in `chatId`; a refused
   * one does not hold up those after it.
   * @template T @param {string} chatId @param {() => Promise<T>} send @returns {Promise<T>}
   */
  enqueue(chatId, send) {
    const turn = (this.tails.get(chatId) ?? Promise.resolve()).then(send);
    const tail = turn.catch(() => undefined);
    this.tails.set(chatId, tail);
    // A chat with nothing queued keeps no promise.
    tail.then(() => this.tails.get(chatId) === tail && this.tails.delete(chatId));
    return turn;
  }
}
