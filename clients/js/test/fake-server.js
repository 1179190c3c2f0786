// A stand-in for the server, for the client's unit tests: a WebSocket class
// to pass as the client's `WebSocket` option, whose sockets the test opens,
// refuses, answers and drops. (The client against the real system is
// tested end to end by tests/tests/sdk.rs.)

export class FakeServer {
  constructor() {
    /** Every socket the client created, oldest first. @type {FakeSocket[]} */
    this.sockets = [];
    /** Answers `action` frames automatically: action → (frame) → reply or undefined. */
    this.replies = new Map([
      ["sync", (f) => ({ type: "syncBatch", requestId: f.requestId, frames: [], cursor: null })],
      ["heartbeat", (f) => ({ type: "heartbeatAck", requestId: f.requestId })],
    ]);
    /** What opening a socket does: "open" | "refuse" | "hang". */
    this.onConnect = "open";
    const server = this;
    /** The class the client constructs. */
    this.WebSocket = class extends FakeSocket {
      constructor(url) {
        super(server, url);
      }
    };
  }

  /** The socket in use (the last one). */
  get socket() {
    return this.sockets[this.sockets.length - 1];
  }

  /** Every frame the client sent, over all sockets, parsed. */
  sent(action) {
    return this.sockets.flatMap((s) => s.frames).filter((f) => !action || f.action === action);
  }
}

class FakeSocket {
  constructor(server, url) {
    this.server = server;
    this.url = url;
    this.readyState = 0;
    /** @type {any[]} */
    this.frames = [];
    this.onopen = null;
    this.onmessage = null;
    this.onerror = null;
    this.onclose = null;
    server.sockets.push(this);
    setTimeout(() => {
      if (server.onConnect === "open") this.open();
      else if (server.onConnect === "refuse") this.refuse(401);
    }, 1);
  }

  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** As the `ws` package reports a refused handshake: an error naming the status, then a close. */
  refuse(status) {
    this.readyState = 3;
    this.onerror?.({ message: `Unexpected server response: ${status}` });
    this.onclose?.({ code: 1006 });
  }

  send(text) {
    const frame = JSON.parse(text);
    this.frames.push(frame);
    const reply = this.server.replies.get(frame.action)?.(frame);
    if (reply) setTimeout(() => this.push(reply), 1);
  }

  /** A frame from the server. */
  push(frame) {
    if (this.readyState === 1) this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The connection drops (the server or the network). */
  drop() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code: 1006 });
  }

  close() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code: 1000 }), 1);
  }
}

/** Resolves once `condition()` (or the promise it returns) is true; fails after `ms`. */
export async function until(what, condition, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
