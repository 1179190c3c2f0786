// The client's connection, outbox and de-duplication against a fake server
// (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ChatClient, ChatError, memoryCache, memoryOutbox } from "../src/index.js";
import { FakeServer, until } from "./fake-server.js";

/** A client of `server` whose tokens are counted; closed after the test. */
function clientOf(server, t, options = {}) {
  const tokens = [];
  const client = new ChatClient({
    websocketUrl: "wss://example.test/prod",
    httpApiUrl: "https://example.test/prod",
    getToken: async (request) => {
      tokens.push(request);
      return `token-${tokens.length}`;
    },
    WebSocket: server.WebSocket,
    // The HTTP API answers the same token as the socket did.
    fetch: async () => new Response(null, { status: server.onConnect === "refuse" ? 401 : 200 }),
    maxBackoffMs: 20,
    ...options,
  });
  t.after(() => client.close());
  return { client, tokens };
}

/** Answers every sendMessage with seqs in arrival order, each after `delayMs`. */
function answerSends(server, delayMs = 10) {
  let seq = 0;
  const inFlight = { now: 0, most: 0 };
  server.replies.set("sendMessage", (f) => {
    inFlight.now += 1;
    inFlight.most = Math.max(inFlight.most, inFlight.now);
    const socket = server.socket;
    setTimeout(() => {
      inFlight.now -= 1;
      socket.push({ type: "sendResult", requestId: f.requestId, chatId: f.chatId, clientMessageId: f.clientMessageId, messageId: `m${++seq}`, seq, status: "SUCCESS", duplicate: false });
    }, delayMs);
  });
  return inFlight;
}

test("without a WebSocket, connect() rejects with no_websocket instead of hanging", async (t) => {
  const saved = globalThis.WebSocket;
  delete globalThis.WebSocket;
  t.after(() => saved && (globalThis.WebSocket = saved));
  const { client } = clientOf(new FakeServer(), t, { WebSocket: undefined });
  await assert.rejects(client.connect(), (e) => e instanceof ChatError && e.code === "no_websocket");
});

test("a refused token: one refresh, then connect() rejects with unauthorized, an auth event, and no more tries", async (t) => {
  const server = new FakeServer();
  server.onConnect = "refuse";
  const { client, tokens } = clientOf(server, t);
  const auth = [];
  client.on("auth", (e) => auth.push(e));
  await assert.rejects(client.connect(), (e) => e instanceof ChatError && e.code === "unauthorized");
  assert.deepEqual(tokens, [{ refresh: false }, { refresh: true }]);
  assert.equal(auth.length, 1);
  assert.equal(client.status, "unauthorized");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(server.sockets.length, 2, "no reconnect loop after a refusal");
});

test("a token refused once and accepted when refreshed connects", async (t) => {
  const server = new FakeServer();
  server.onConnect = "refuse";
  const { client, tokens } = clientOf(server, t, {
    getToken: async (request) => {
      tokens.push(request);
      if (request.refresh) server.onConnect = "open";
      return "t";
    },
  });
  await client.connect();
  assert.equal(client.status, "open");
  assert.deepEqual(tokens, [{ refresh: false }, { refresh: true }]);
});

test("a dropped socket (not a refusal) is reconnected and synced again", async (t) => {
  const server = new FakeServer();
  const { client } = clientOf(server, t);
  await client.connect();
  server.socket.drop();
  await until("a second sync", () => server.sent("sync").length === 2);
  assert.equal(client.status, "open");
});

test("close() settles what is pending: requests and sends reject with closed, the send stays in the outbox", async (t) => {
  const server = new FakeServer();
  const outbox = memoryOutbox();
  const { client } = clientOf(server, t, { outbox });
  await client.connect();
  const request = client.request("chatDetails", {});
  server.socket.drop();
  server.onConnect = "hang";
  const send = client.sendMessage("c1", "written while the socket was down");
  await until("the send to be kept", async () => (await outbox.load()).length === 1);
  client.close();
  await assert.rejects(request, (e) => e.code === "disconnected");
  await assert.rejects(send, (e) => e instanceof ChatError && e.code === "closed");
  const kept = await outbox.load();
  assert.equal(kept.length, 1);
  assert.equal(kept[0].message, "written while the socket was down");
});

test("a send pending at close() goes out once, with its clientMessageId, from a new client of the same outbox", async (t) => {
  const outbox = memoryOutbox();
  const first = new FakeServer();
  first.onConnect = "hang";
  const { client: before } = clientOf(first, t, { outbox });
  before.connect().catch(() => undefined);
  const pending = before.sendMessage("c1", "hello", { clientMessageId: "cm-1" }).catch((e) => e);
  await until("kept", () => outbox.load().then((e) => e.length === 1));
  before.close();
  assert.equal((await pending).code, "closed");

  const server = new FakeServer();
  answerSends(server);
  const { client: after } = clientOf(server, t, { outbox });
  await after.connect();
  await until("the restored send to be answered", () => after.chat("c1").list().some((m) => m.seq === 1));
  const sends = server.sent("sendMessage");
  assert.deepEqual(sends.map((f) => f.clientMessageId), ["cm-1"]);
  assert.equal((await outbox.load()).length, 0);
});

test("a send stopped by close() goes out once when the same client connects again", async (t) => {
  const server = new FakeServer();
  server.onConnect = "hang";
  const outbox = memoryOutbox();
  const { client } = clientOf(server, t, { outbox });
  client.connect().catch(() => undefined);
  const stopped = client.sendMessage("c1", "hello", { clientMessageId: "cm-2" }).catch((e) => e);
  await until("kept", () => outbox.load().then((e) => e.length === 1));
  client.close();
  assert.equal((await stopped).code, "closed");
  server.onConnect = "open";
  answerSends(server);
  await client.connect();
  await until("the send to be answered", () => client.chat("c1").list().some((m) => m.seq === 1));
  assert.deepEqual(server.sent("sendMessage").map((f) => f.clientMessageId), ["cm-2"]);
  assert.equal((await outbox.load()).length, 0);
});

test("one chat's sends go one at a time in the order written; another chat does not wait", async (t) => {
  const server = new FakeServer();
  const inFlight = answerSends(server, 20);
  const { client } = clientOf(server, t);
  await client.connect();
  const sends = ["one", "two", "three", "four"].map((text) => client.sendMessage("c1", text));
  const other = client.sendMessage("c2", "elsewhere");
  const otherResult = await other;
  assert.ok(otherResult.seq <= 2, "the other chat's send went out beside the first, not after all four");
  await Promise.all(sends);
  const order = client.chat("c1").list().map((m) => m.message);
  assert.deepEqual(order, ["one", "two", "three", "four"]);
  assert.equal(inFlight.most, 2, "at most one send per chat in flight (two chats: two)");
});

test("a confirmed send is a `sent` event with its seq, for the device's other tabs", async (t) => {
  const server = new FakeServer();
  answerSends(server);
  const { client } = clientOf(server, t);
  const sent = [];
  client.on("sent", (m) => sent.push(m));
  await client.connect();
  const result = await client.sendMessage("c1", "hello");
  assert.equal(sent.length, 1);
  assert.deepEqual([sent[0].message, sent[0].seq, sent[0].messageId, sent[0].pending], ["hello", result.seq, result.messageId, false]);
});

test("a refused send is marked failed and kept; retry() sends it again with the same id, discard() drops it", async (t) => {
  const server = new FakeServer();
  const outbox = memoryOutbox();
  let refuse = true;
  server.replies.set("sendMessage", (f) =>
    refuse
      ? { type: "error", requestId: f.requestId, code: "not_member", message: "you are not in this chat" }
      : { type: "sendResult", requestId: f.requestId, chatId: f.chatId, clientMessageId: f.clientMessageId, messageId: "m1", seq: 1, status: "SUCCESS", duplicate: false },
  );
  const { client } = clientOf(server, t, { outbox });
  await client.connect();
  await assert.rejects(client.sendMessage("c1", "hi", { clientMessageId: "cm-9" }), (e) => e.code === "not_member");
  assert.equal(client.chat("c1").list()[0].failed, "not_member");
  assert.equal((await outbox.load())[0].failed, "not_member");
  refuse = false;
  await client.retry("c1", "cm-9");
  assert.deepEqual(server.sent("sendMessage").map((f) => f.clientMessageId), ["cm-9", "cm-9"]);
  assert.equal(client.chat("c1").list()[0].seq, 1);
  assert.equal((await outbox.load()).length, 0);

  refuse = true;
  await client.sendMessage("c1", "again", { clientMessageId: "cm-10" }).catch(() => undefined);
  await client.discard("c1", "cm-10");
  assert.equal((await outbox.load()).length, 0);
  assert.ok(!client.chat("c1").list().some((m) => m.clientMessageId === "cm-10"));
});

test("a heartbeat without an answer is a dead socket: the client reconnects", async (t) => {
  const server = new FakeServer();
  server.replies.delete("heartbeat");
  const { client } = clientOf(server, t, { heartbeatMs: 30, requestTimeoutMs: 50 });
  await client.connect();
  await until("a new socket", () => server.sockets.length >= 2, 3000);
  await until("open again", () => client.status === "open", 3000);
});

test("a message delivered twice is one event; stored events are remembered in a bounded window", async (t) => {
  const server = new FakeServer();
  const { client } = clientOf(server, t);
  await client.connect();
  const events = [];
  client.on("newMessage", (m) => events.push(m.seq));
  const message = { type: "newMessage", chatId: "c1", messageId: "m1", seq: 1, senderId: "bob", senderDevice: "phone", clientMessageId: "x", message: "hi", sentAt: 1, attachments: [], mentions: [], reactions: [] };
  server.socket.push(message);
  server.socket.push(message);
  await until("acked", () => server.sent("ack").length > 0);
  assert.deepEqual(events, [1]);
  for (let i = 0; i < 6000; i++) client.handle({ type: "chatInfo", chatId: "c1", eventId: `e${i}`, by: "bob" });
  assert.equal(client.seen.size, 5000);
  let repeats = 0;
  client.on("chatInfo", () => repeats++);
  client.handle({ type: "chatInfo", chatId: "c1", eventId: "e5999", by: "bob" });
  assert.equal(repeats, 0, "a recent event seen again is dropped");
});

test("a new client on the same cache opens on the chat list and messages the last one showed", async (t) => {
  const server = new FakeServer();
  answerSends(server);
  const cache = memoryCache();
  const chats = [{ chatId: "c1", kind: "direct", participants: ["alice", "bob"], lastSeq: 3 }];
  const { client } = clientOf(server, t, { cache, fetch: async () => Response.json({ chats }) });
  await client.connect();
  await client.chatList();
  server.socket.push({ type: "newMessage", chatId: "c1", messageId: "m1", seq: 1, senderId: "bob", message: "kept", sentAt: 1, attachments: [], reactions: [] });
  server.socket.push({ type: "newMessage", chatId: "c1", messageId: "m2", seq: 2, senderId: "bob", message: "deleted later", sentAt: 2, attachments: [], reactions: [] });
  server.socket.push({ type: "newMessage", chatId: "c1", messageId: "m3", seq: 3, senderId: "bob", message: "hidden for me", sentAt: 3, attachments: [], reactions: [] });
  await until("three messages", () => client.chat("c1").list().length === 3);
  server.socket.push({ type: "messageChanged", eventId: "e1", chatId: "c1", seq: 4, targetSeq: 2, messageId: "m2", targetSenderId: "bob", userId: "bob", at: 4, change: "deleted" });
  server.socket.push({ type: "messageHidden", eventId: "e2", chatId: "c1", seq: 3 });
  await until("the deletion applied", () => client.chat("c1").list().find((m) => m.seq === 2)?.deleted);
  client.close();
  await until("saved", async () => (await cache.get("messages:c1"))?.length === 2);

  const later = new ChatClient({ websocketUrl: "wss://x", httpApiUrl: "https://x", getToken: async () => "t", cache, WebSocket: server.WebSocket });
  t.after(() => later.close());
  const restored = await later.restoreCache();
  assert.deepEqual(restored.map((c) => c.chatId), ["c1"]);
  const shown = later.chat("c1").list();
  assert.deepEqual(shown.map((m) => [m.seq, m.message]), [[1, "kept"], [2, ""]], "the deleted one without its text, the hidden one not at all");
  assert.ok(shown[1].deleted);
  await later.clearCache();
  assert.equal(await later.restoreCache(), null, "signed out: nothing left");
});
