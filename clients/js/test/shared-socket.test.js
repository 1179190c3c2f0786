// Tabs of one device sharing one connection (sharedWebSocket), against the
// fake server, Node's own BroadcastChannel and a Web Locks stand-in
// (node --test). The browser test with real tabs is tests/tests/browser.rs.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ChatClient, sharedWebSocket } from "../src/index.js";
import { FakeServer, until } from "./fake-server.js";

/** Web Locks as a browser grants them: one holder per name, a FIFO queue, `ifAvailable`, `signal`. */
class FakeLocks {
  constructor() {
    /** @type {Map<string, {queue: any[], holder: any}>} */
    this.names = new Map();
  }

  entry(name) {
    if (!this.names.has(name)) this.names.set(name, { queue: [], holder: null });
    return this.names.get(name);
  }

  request(name, options, callback) {
    if (typeof options === "function") [callback, options] = [options, {}];
    const entry = this.entry(name);
    return new Promise((resolve, reject) => {
      const waiter = { callback, resolve, reject };
      if (!entry.holder && entry.queue.length === 0) return this.grant(name, waiter);
      if (options.ifAvailable) return Promise.resolve(callback(null)).then(resolve, reject);
      entry.queue.push(waiter);
      options.signal?.addEventListener("abort", () => {
        const at = entry.queue.indexOf(waiter);
        if (at >= 0) entry.queue.splice(at, 1);
        reject(new Error("AbortError"));
      });
    });
  }

  grant(name, waiter) {
    const entry = this.entry(name);
    entry.holder = waiter;
    Promise.resolve(waiter.callback({ name }))
      .then(waiter.resolve, waiter.reject)
      .finally(() => this.released(name, waiter));
  }

  released(name, waiter) {
    const entry = this.entry(name);
    if (entry.holder !== waiter) return;
    entry.holder = null;
    const next = entry.queue.shift();
    if (next) this.grant(name, next);
  }

  /** The holder's tab went away: the browser lets its lock go, whatever it was doing. */
  kill(name) {
    const entry = this.entry(name);
    if (entry.holder) this.released(name, entry.holder);
  }
}

/** A tab: its own client on a shared socket class of the device. */
function tab(server, locks, t, name = "chat:alice:laptop") {
  const events = [];
  const client = new ChatClient({
    websocketUrl: "wss://example.test/prod",
    httpApiUrl: "https://example.test/prod",
    getToken: async () => "token",
    WebSocket: sharedWebSocket(name, { locks, BroadcastChannel, WebSocket: server.WebSocket }),
    fetch: async () => new Response(null, { status: 200 }),
    maxBackoffMs: 20,
  });
  client.on("newMessage", (m) => events.push(m.message));
  t.after(() => client.close());
  return { client, events };
}

const openSockets = (server) => server.sockets.filter((s) => s.readyState === 1).length;

function message(text, seq) {
  return { type: "newMessage", chatId: "dm-alice-bob", messageId: `m${seq}`, seq, senderId: "bob", senderDevice: "phone", clientMessageId: `c${seq}`, message: text, mentions: [], sentAt: seq, attachments: [], reactions: [] };
}

test("two tabs of one device open one connection and both get what arrives", async (t) => {
  const server = new FakeServer();
  const locks = new FakeLocks();
  const first = tab(server, locks, t);
  const second = tab(server, locks, t);
  await Promise.all([first.client.connect(), second.client.connect()]);
  assert.equal(server.sockets.length, 1, "one socket to the server");
  server.socket.push(message("hello both", 1));
  await until("both tabs show the message", () => first.events.includes("hello both") && second.events.includes("hello both"));
});

test("a reply goes to the tab that asked, with its own requestId", async (t) => {
  const server = new FakeServer();
  const locks = new FakeLocks();
  const first = tab(server, locks, t);
  const second = tab(server, locks, t);
  await Promise.all([first.client.connect(), second.client.connect()]);
  server.replies.set("listDevices", (f) => ({ type: "devices", requestId: f.requestId, devices: [{ deviceId: f.requestId.includes(":") ? "via-leader" : "leader" }] }));
  const [a, b] = await Promise.all([first.client.request("listDevices"), second.client.request("listDevices")]);
  const seen = [a.devices[0].deviceId, b.devices[0].deviceId].sort();
  assert.deepEqual(seen, ["leader", "via-leader"], "each tab got its own answer");
  const relayed = server.sent("listDevices").map((f) => f.requestId);
  assert.equal(new Set(relayed).size, 2, "the two ids reached the server distinct");
});

test("when the connection drops both tabs come back on one connection, no loop", async (t) => {
  const server = new FakeServer();
  const locks = new FakeLocks();
  const first = tab(server, locks, t);
  const second = tab(server, locks, t);
  await Promise.all([first.client.connect(), second.client.connect()]);
  server.socket.drop();
  await until("both tabs open again", () => first.client.status === "open" && second.client.status === "open" && openSockets(server) === 1);
  const afterDrop = server.sockets.length;
  server.socket.push(message("after the drop", 2));
  await until("both get the next message", () => first.events.includes("after the drop") && second.events.includes("after the drop"));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(server.sockets.length, afterDrop, "no further connections once both are open");
  assert.equal(afterDrop, 2, "one reconnect for the two tabs");
});

test("when the leading tab goes away another takes the connection", async (t) => {
  const server = new FakeServer();
  const locks = new FakeLocks();
  const first = tab(server, locks, t);
  await first.client.connect();
  const second = tab(server, locks, t);
  await second.client.connect();
  // The first tab is killed: its socket is gone with it and the browser frees its lock.
  const leaderSocket = server.socket;
  leaderSocket.readyState = 3;
  locks.kill("chat:alice:laptop");
  await until("the second tab opens its own connection", () => second.client.status === "open" && server.sockets.length === 2 && server.socket.readyState === 1);
  server.socket.push(message("to the survivor", 3));
  await until("it gets what arrives", () => second.events.includes("to the survivor"));
});

test("without Web Locks or BroadcastChannel it is the plain WebSocket", () => {
  const server = new FakeServer();
  assert.equal(sharedWebSocket("x", { locks: null, BroadcastChannel, WebSocket: server.WebSocket }), server.WebSocket);
  assert.equal(sharedWebSocket("x", { locks: new FakeLocks(), BroadcastChannel: null, WebSocket: server.WebSocket }), server.WebSocket);
  assert.notEqual(sharedWebSocket("x", { locks: new FakeLocks(), BroadcastChannel, WebSocket: server.WebSocket }), server.WebSocket);
});
