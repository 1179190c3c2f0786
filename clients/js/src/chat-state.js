// @ts-check
/**
 * One chat's messages as this device knows them: ordered by `seq`, changes
 * (edits, deletions, reactions) applied in seq order whatever order they
 * arrive in, a message seen twice (live, then again from `sync` or history)
 * kept once. Pure: no I/O, unit-tested with `node --test`.
 * @module chat-state
 */

/** @typedef {import("./protocol.js").MessageView & {pending?: boolean, failed?: string}} Message
 * A message as the server sends it; `pending` and `failed` are the client's own (a send not confirmed yet). */
/** @typedef {import("./protocol.js").MessageChange} MessageChange */

/**
 * One chat's messages as this device knows them, ordered by `seq`, with
 * changes applied in seq order whatever order they arrive in.
 */
export class ChatState {
  constructor() {
    /** @type {Map<number, Message>} by seq */
    this.bySeq = new Map();
    /** Sends not confirmed yet, by clientMessageId. @type {Map<string, Message>} */
    this.pending = new Map();
    /** Changes that arrived before their message, by target seq. @type {Map<number, MessageChange[]>} */
    this.early = new Map();
    /** Seqs the user deleted for themself. @type {Set<number>} */
    this.hidden = new Set();
    /** The user deleted the chat through this seq (`deleteChat`): nothing up to it shows again. */
    this.clearedThrough = 0;
  }

  /** The chat deleted through `seq`: what it held up to there goes, and stays gone. @param {number} seq */
  clearThrough(seq) {
    this.clearedThrough = Math.max(this.clearedThrough, seq);
    for (const known of [...this.bySeq.keys()]) if (known <= this.clearedThrough) this.bySeq.delete(known);
    for (const target of [...this.early.keys()]) if (target <= this.clearedThrough) this.early.delete(target);
  }

  /** Every message to show, oldest first (pending sends last). @returns {Message[]} */
  list() {
    const stored = [...this.bySeq.values()].filter((m) => !this.hidden.has(m.seq)).sort((a, b) => a.seq - b.seq);
    return stored.concat([...this.pending.values()]);
  }

  /** @param {Message} message @returns {boolean} whether it was new or newer */
  put(message) {
    if (message.seq <= this.clearedThrough) return false;
    const known = this.bySeq.get(message.seq);
    if (known && (known.updatedSeq ?? 0) >= (message.updatedSeq ?? 0)) return false;
    this.bySeq.set(message.seq, { ...message });
    this.pending.delete(message.clientMessageId);
    for (const change of this.early.get(message.seq) ?? []) this.apply(change);
    this.early.delete(message.seq);
    return true;
  }

  /** Applies a change to its message if it is newer than the message's state. @param {MessageChange} change */
  apply(change) {
    const { targetSeq, seq, userId = "", at = 0 } = change;
    // (A change without its content, or not one this client can place.)
    if (change.hidden || targetSeq === undefined || seq === undefined) return false;
    // (A change to a message the user deleted with the chat: it stays deleted.)
    if (targetSeq <= this.clearedThrough) return false;
    const message = this.bySeq.get(targetSeq);
    if (!message) {
      const early = this.early.get(targetSeq) ?? [];
      early.push(change);
      this.early.set(targetSeq, early);
      return false;
    }
    if ((message.updatedSeq ?? 0) >= seq) return false;
    message.updatedSeq = seq;
    if (change.change === "edited") {
      message.message = change.message ?? message.message;
      message.editedAt = at;
    } else if (change.change === "deleted") {
      message.message = "";
      message.attachments = [];
      message.reactions = [];
      delete message.replyTo;
      message.deleted = { by: userId, at };
      for (const other of this.bySeq.values()) {
        if (other.replyTo?.seq === message.seq) other.replyTo = { ...other.replyTo, snippet: "", attachmentCount: 0, deleted: true };
      }
    } else if (change.change === "reacted") {
      const counts = (message.reactions ?? []).map((r) => ({ ...r, users: r.users.filter((u) => u !== userId) }));
      const emoji = change.emoji;
      if (emoji) {
        const same = counts.find((r) => r.emoji === emoji);
        if (same) same.users.push(userId);
        else counts.push({ emoji, count: 0, users: [userId] });
      }
      message.reactions = counts.filter((r) => r.users.length > 0).map((r) => ({ ...r, count: r.users.length }));
    }
    return true;
  }

  /** The last seq known (messages and changes alike). */
  lastSeq() {
    let last = 0;
    for (const seq of this.bySeq.keys()) last = Math.max(last, seq);
    return last;
  }

  firstSeq() {
    let first = Infinity;
    for (const seq of this.bySeq.keys()) first = Math.min(first, seq);
    return first === Infinity ? 0 : first;
  }
}

