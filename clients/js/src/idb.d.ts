/**
 * One object store of an IndexedDB database, opened on first use, and a way
 * to run a request in it that settles when its transaction is durable (not
 * when the request is): what the outbox and the cache both keep their data in.
 * @param {IDBFactory} factory @param {string} name the database
 * @param {string} store the object store @param {IDBObjectStoreParameters} [options] its key path, if any
 * @returns {<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>) => Promise<T>}
 */
export function idbStore(factory: IDBFactory, name: string, store: string, options?: IDBObjectStoreParameters): <T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>) => Promise<T>;
