// @ts-check
/**
 * One object store of an IndexedDB database, opened on first use, and a way
 * to run a request in it that settles when its transaction is durable (not
 * when the request is): what the outbox and the cache both keep their data in.
 * @param {IDBFactory} factory @param {string} name the database
 * @param {string} store the object store @param {IDBObjectStoreParameters} [options] its key path, if any
 * @returns {<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>) => Promise<T>}
 */
export function idbStore(factory, name, store, options) {
  /** @type {Promise<IDBDatabase>|null} */
  let opened = null;
  const db = () => {
    opened ??= new Promise((resolve, reject) => {
      const request = factory.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(store, options);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return opened;
  };
  return async (mode, work) => {
    const tx = (await db()).transaction(store, mode);
    const request = work(tx.objectStore(store));
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  };
}
