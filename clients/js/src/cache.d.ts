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
export function memoryCache(): Cache;
/**
 * A cache in the browser's IndexedDB database `name` (one per user and device).
 * @param {string} name @param {IDBFactory} [factory] @returns {Cache}
 */
export function indexedDbCache(name: string, factory?: IDBFactory): Cache;
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
 */
export type Cache = {
    get: (key: string) => Promise<any>;
    put: (key: string, value: any) => Promise<void>;
    clear: () => Promise<void>;
};
