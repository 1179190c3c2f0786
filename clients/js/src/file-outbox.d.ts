/** @typedef {import("./outbox.js").OutboxEntry} OutboxEntry */
/** @param {string} path @returns {import("./outbox.js").OutboxStore} */
export function fileOutbox(path: string): import("./outbox.js").OutboxStore;
export type OutboxEntry = import("./outbox.js").OutboxEntry;
