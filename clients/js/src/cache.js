// @ts-check
import { idbStore } from "./idb.js";

/**
 * Where the client keeps the chat list and each chat's recent messages
 * across page loads (`ChatClient`'s `cache` option; `restoreCache()` reads
 * it back), so an app opens on what it showed last — at once, and
 * offline — and then reconciles with `sync` and history. A key-value store:
 * `memoryCache()` (the default: nothing survives the page), `indexedDbCache`
 * in browsers, or any `{get, put, clear}`.
 *
 * What is kept is what the device already showed, as it stands: a message
 * deleted for everyone is saved without its content once the deletion
 * arrives (and a quote of it without its snippet); one deleted for this
 * user, and pending sends (the outbox keeps those), are not saved at all.
 * Signing out should `clear()` it.
 * @typedef {{get: (key: string) => Promise<any>, put: (key: string, value: any) => Promise<void>, clear: () => Promise<void>}} Cache
 */

/** @returns {Cache} */
export function memoryCache() {
  /** @type {Map<string, string>} */
  const values = new Map();
  return {
    // Copied through JSON, as IndexedDB copies: no one shares the caller's objects.
    get: async (key) => (values.has(key) ? JSON.parse(/** @type {string} */ (values.get(key))) : undefined),
    put: async (key, value) => void values.set(key, JSON.stringify(value)),
    clear: async () => values.clear(),
  };
}

/**
 * A cache in the browser's IndexedDB database `name` (one per user and device).
 * @param {string} name @param {IDBFactory} [factory] @returns {Cache}
 */
export function indexedDbCache(name, factory = globalThis.indexedDB) {
  const run = idbStore(factory, name, "cache");
  return {
    get: (key) => run("readonly", (store) => store.get(key)),
    put: async (key, value) => void (await run("readwrite", (store) => store.put(value, key))),
    clear: async () => void (await run("readwrite", (store) => store.clear())),
  };
}
