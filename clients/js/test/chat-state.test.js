// A chat's messages and changes, whatever order they arrive in (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ChatState } from "../src/index.js";

const message = (seq, text, extra = {}) => ({
  chatId: "c", seq, messageId: `m${seq}`, clientMessageId: `cm${seq}`, senderId: "bob", senderDevice: "phone",
  message: text, sentAt: seq, attachments: [], mentions: [], reactions: [], ...extra,
});
const change = (seq, targetSeq, fields) => ({ chatId: "c", seq, targetSeq, userId: "alice", at: seq, ...fields });

test("messages are listed by seq whatever order they arrive in, each once", () => {
  const chat = new ChatState();
  for (const seq of [3, 1, 2, 3, 1]) chat.put(message(seq, `#${seq}`));
  assert.deepEqual(chat.list().map((m) => m.message), ["#1", "#2", "#3"]);
  assert.equal(chat.lastSeq(), 3);
  assert.equal(chat.firstSeq(), 1);
});

test("a change that arrives before its message is applied when the message comes", () => {
  const chat = new ChatState();
  chat.apply(change(5, 2, { change: "edited", message: "fixed" }));
  assert.equal(chat.list().length, 0);
  chat.put(message(2, "typo"));
  assert.equal(chat.list()[0].message, "fixed");
});

test("an older change does not undo a newer one", () => {
  const chat = new ChatState();
  chat.put(message(1, "v1"));
  assert.ok(chat.apply(change(4, 1, { change: "edited", message: "v3" })));
  assert.ok(!chat.apply(change(3, 1, { change: "edited", message: "v2" })));
  assert.equal(chat.list()[0].message, "v3");
});

test("reactions: one per person, replaced and removed", () => {
  const chat = new ChatState();
  chat.put(message(1, "hi"));
  chat.apply(change(2, 1, { change: "reacted", emoji: "👍" }));
  chat.apply(change(3, 1, { change: "reacted", emoji: "❤️", userId: "bob" }));
  chat.apply(change(4, 1, { change: "reacted", emoji: "❤️" }));
  assert.deepEqual(chat.list()[0].reactions, [{ emoji: "❤️", count: 2, users: ["bob", "alice"] }]);
  chat.apply(change(5, 1, { change: "reacted", emoji: null, userId: "bob" }));
  assert.deepEqual(chat.list()[0].reactions, [{ emoji: "❤️", count: 1, users: ["alice"] }]);
});

test("a deletion for everyone empties the message and every quote of it", () => {
  const chat = new ChatState();
  chat.put(message(1, "secret", { attachments: [{ attachmentId: "a" }] }));
  chat.put(message(2, "reply", { replyTo: { seq: 1, messageId: "m1", senderId: "bob", snippet: "secret", attachmentCount: 1, deleted: false } }));
  chat.apply(change(3, 1, { change: "deleted" }));
  const [deleted, reply] = chat.list();
  assert.equal(deleted.message, "");
  assert.deepEqual(deleted.attachments, []);
  assert.deepEqual(deleted.deleted, { by: "alice", at: 3 });
  assert.equal(reply.replyTo.snippet, "");
  assert.equal(reply.replyTo.deleted, true);
});

test("a hidden change and one without its target are ignored", () => {
  const chat = new ChatState();
  chat.put(message(1, "hi"));
  assert.ok(!chat.apply(change(2, 1, { change: "edited", message: "x", hidden: true })));
  assert.ok(!chat.apply({ change: "edited", message: "x", seq: 3 }));
  assert.equal(chat.list()[0].message, "hi");
});

test("pending sends are listed after the stored messages and leave when stored", () => {
  const chat = new ChatState();
  chat.put(message(1, "first"));
  chat.pending.set("cm2", { ...message(Infinity, "sending"), clientMessageId: "cm2", pending: true });
  assert.deepEqual(chat.list().map((m) => m.message), ["first", "sending"]);
  chat.put(message(2, "sending", { clientMessageId: "cm2" }));
  assert.deepEqual(chat.list().map((m) => [m.message, m.pending ?? false]), [["first", false], ["sending", false]]);
});

test("a chat deleted through a seq drops what it held and takes none of it back", () => {
  const chat = new ChatState();
  for (const seq of [1, 2, 3]) chat.put(message(seq));
  chat.apply({ chatId: "c", seq: 5, targetSeq: 4, kind: "edit", userId: "bob", at: 1, message: "early" });
  chat.clearThrough(4);
  assert.deepEqual(chat.list(), []);
  assert.equal(chat.put(message(2)), false, "a late copy (history, sync) is not shown again");
  assert.equal(chat.apply({ chatId: "c", seq: 7, targetSeq: 3, kind: "edit", userId: "bob", at: 2, message: "later" }), false, "nor is a later edit of it");
  assert.equal(chat.early.size, 0, "nor kept waiting for it");
  assert.equal(chat.put(message(6)), true, "what comes after is");
  assert.deepEqual(chat.list().map((m) => m.seq), [6]);
});
