// @ts-check
/**
 * An outbox in a JSON file, for Node (`@serverless-chat/client/file-outbox`):
 * pending sends survive the process. Written whole on each change (an
 * outbox holds a handful of entries), to a temporary file then renamed, so
 * a crash leaves the old file or the new one, never half of one.
 * @module file-outbox
 */
import { readFile, rename, writeFile } from "node:fs/promises";

/** @typedef {import("./outbox.js").OutboxEntry} OutboxEntry */

/** @param {string} path @returns {import("./outbox.js").OutboxStore} */
export function fileOutbox(path) {
  /** @type {Map<string, OutboxEntry>|null} */
  let entries = null;
  /** @type {Promise<unknown>} one write at a time, in order */
  let writing = Promise.resolve();
  const load = async () => {
    if (!entries) {
      /** @type {OutboxEntry[]} */
      let stored = [];
      try {
        stored = JSON.parse(await readFile(path, "utf8"));
      } catch (e) {
        if (/** @type {NodeJS.ErrnoException} */ (e).code !== "ENOENT") throw e;
      }
      entries = new Map(stored.map((entry) => [entry.clientMessageId, entry]));
    }
    return entries;
  };
  const save = async () => {
    const text = JSON.stringify([...(await load()).values()]);
    writing = writing.then(async () => {
      await writeFile(`${path}.tmp`, text);
      await rename(`${path}.tmp`, path);
    });
    await writing;
  };
  return {
    load: async () => [...(await load()).values()].map((entry) => ({ ...entry })),
    put: async (entry) => {
      (await load()).set(entry.clientMessageId, { ...entry });
      await save();
    },
    delete: async (id) => {
      if ((await load()).delete(id)) await save();
    },
  };
}
