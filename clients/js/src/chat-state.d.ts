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
    /** @type {Map<number, Message>} by seq */
    bySeq: Map<number, Message>;
    /** Sends not confirmed yet, by clientMessageId. @type {Map<string, Message>} */
    pending: Map<string, Message>;
    /** Changes that arrived before their message, by target seq. @type {Map<number, MessageChange[]>} */
    early: Map<number, MessageChange[]>;
    /** Seqs the user deleted for themself. @type {Set<number>} */
    hidden: Set<number>;
    /** The user deleted the chat through this seq (`deleteChat`): nothing up to it shows again. */
    clearedThrough: number;
    /** The chat deleted through `seq`: what it held up to there goes, and stays gone. @param {number} seq */
    clearThrough(seq: number): void;
    /** Every message to show, oldest first (pending sends last). @returns {Message[]} */
    list(): Message[];
    /** @param {Message} message @returns {boolean} whether it was new or newer */
    put(message: Message): boolean;
    /** Applies a change to its message if it is newer than the message's state. @param {MessageChange} change */
    apply(change: MessageChange): boolean;
    /** The last seq known (messages and changes alike). */
    lastSeq(): number;
    firstSeq(): number;
}
/**
 * A message as the server sends it; `pending` and `failed` are the client's own (a send not confirmed yet).
 */
export type Message = import("./protocol.js").MessageView & {
    pending?: boolean;
    failed?: string;
};
export type MessageChange = import("./protocol.js").MessageChange;
