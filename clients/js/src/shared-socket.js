/**
 * One connection for every tab of a browser signed in as one device.
 *
 * The server keeps one connection per device and closes the older when a
 * second opens (`connectionReplaced`), as a messenger app does. Tabs of one
 * browser share the device (its id is in the browser's storage), so each
 * would close the other's. `sharedWebSocket` makes a `WebSocket` class for
 * `ChatClient`'s `WebSocket` option with which the tabs share one: the tab
 * that holds a Web Lock named after the device (the leader) opens the real
 * socket and relays over a `BroadcastChannel` of the same name; every other
 * tab's socket is a stand-in that sends through the leader and receives
 * what the server sends — events to every tab, a reply only to the tab that
 * asked (its `requestId` is tagged on the way out and untagged on the way
 * back, so two tabs' ids never collide). When the leader's socket closes, or
 * its tab goes away (its lock is released then, however the tab ended), the
 * other tabs' sockets close too: each client reconnects as it does after
 * any drop, and one of them takes the lock and the real connection.
 *
 * @param {string} name the device's name for the lock and the channel (e.g. `chat:<user>:<device>`)
 * @param {{locks?: LockManager | null, BroadcastChannel?: typeof BroadcastChannel | null, WebSocket?: typeof WebSocket}} [deps]
 *   the browser's by default (injected in tests); without Web Locks or
 *   BroadcastChannel each tab keeps its own socket (the plain `WebSocket`)
 * @returns {typeof WebSocket}
 */
export function sharedWebSocket(name, deps = {}) {
  const locks = "locks" in deps ? deps.locks : globalThis.navigator?.locks;
  const Channel = "BroadcastChannel" in deps ? deps.BroadcastChannel : globalThis.BroadcastChannel;
  const RealSocket = deps.WebSocket ?? globalThis.WebSocket;
  if (!locks || !Channel || !RealSocket) return /** @type {typeof WebSocket} */ (RealSocket);
  /** @type {LockManager} */
  const lockManager = locks;
  /** @type {typeof BroadcastChannel} */
  const ChannelClass = Channel;
  const tab = `t${Math.random().toString(36).slice(2, 10)}`;

  class SharedWebSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;

    /** @param {string} url */
    constructor(url) {
      this.url = url;
      this.readyState = SharedWebSocket.CONNECTING;
      /** @type {((event: any) => void) | null} */ this.onopen = null;
      /** @type {((event: any) => void) | null} */ this.onmessage = null;
      /** @type {((event: any) => void) | null} */ this.onclose = null;
      /** @type {((event: any) => void) | null} */ this.onerror = null;
      /** @type {WebSocket | null} the real socket, when this tab leads */
      this.real = null;
      /** Follower requests relayed by the leader: tagged id → the tab that asked. @type {Map<string, string>} */
      this.relayed = new Map();
      this.channel = new ChannelClass(name);
      this.channel.onmessage = (/** @type {MessageEvent} */ event) => this.heard(event.data);
      /** Resolves when this socket is done, releasing the lock it holds. @type {() => void} */
      this.release = () => {};
      /** Withdraws a follower's queued watch of the lock. @type {() => void} */
      this.withdraw = () => {};
      lockManager
        .request(name, { ifAvailable: true }, (/** @type {Lock | null} */ lock) => {
          if (this.readyState === SharedWebSocket.CLOSED) return undefined;
          if (lock) return this.lead();
          this.follow();
          return undefined;
        })
        .catch(() => this.ended());
    }

    /** This tab opens the real socket and holds the lock while it lives. */
    lead() {
      // The platform's class as it is now, as ChatClient reads it on every
      // open (a page, or a test taking it offline, may replace it).
      const Socket = deps.WebSocket ?? globalThis.WebSocket;
      const real = new Socket(this.url);
      this.real = real;
      real.onopen = () => {
        this.readyState = SharedWebSocket.OPEN;
        this.channel.postMessage({ t: "open" });
        this.onopen?.({});
      };
      real.onerror = (event) => this.onerror?.(event);
      real.onmessage = (event) => this.fromServer(String(event.data));
      return new Promise((resolve) => {
        this.release = () => resolve(undefined);
        real.onclose = () => this.ended();
      });
    }

    /** Another tab leads: wait for its socket, and watch for the lock to free up (it left). */
    follow() {
      this.channel.postMessage({ t: "hello" });
      // Withdrawn when this socket ends first, so a stale watch never holds
      // the lock a reconnecting tab asks for.
      const watch = new AbortController();
      this.withdraw = () => watch.abort();
      lockManager
        .request(name, { signal: watch.signal }, () => {
          // Granted only once the leader let go: this socket's leader is gone.
          if (this.readyState !== SharedWebSocket.CLOSED) this.ended();
        })
        .catch(() => this.ended());
    }

    /** @param {string} text a frame from the server (this tab leads) */
    fromServer(text) {
      let requestId;
      try {
        requestId = JSON.parse(text)?.requestId;
      } catch {
        requestId = undefined;
      }
      const to = requestId ? this.relayed.get(requestId) : undefined;
      if (to) {
        this.relayed.delete(requestId);
        const [, original] = requestId.split(/:(.*)/s);
        this.channel.postMessage({ t: "frame", to, data: retag(text, requestId, original) });
        return;
      }
      if (!requestId) this.channel.postMessage({ t: "frame", data: text });
      this.onmessage?.({ data: text });
    }

    /** @param {any} message from another tab over the channel */
    heard(message) {
      if (!message || typeof message !== "object") return;
      if (this.real) {
        // Leading: answer newcomers, relay their sends.
        if (message.t === "hello" && this.readyState === SharedWebSocket.OPEN) this.channel.postMessage({ t: "open" });
        if (message.t === "send" && this.readyState === SharedWebSocket.OPEN) this.real.send(this.tagged(message.from, message.data));
        return;
      }
      if (message.t === "open" && this.readyState === SharedWebSocket.CONNECTING) {
        this.readyState = SharedWebSocket.OPEN;
        this.onopen?.({});
      } else if (message.t === "frame" && this.readyState === SharedWebSocket.OPEN && (!message.to || message.to === tab)) {
        this.onmessage?.({ data: message.data });
      } else if (message.t === "closed") {
        this.ended();
      }
    }

    /** A follower's frame, its `requestId` tagged with the tab that sent it. @param {string} from @param {string} data */
    tagged(from, data) {
      try {
        const frame = JSON.parse(data);
        if (typeof frame?.requestId === "string") {
          const id = `${from}:${frame.requestId}`;
          this.relayed.set(id, from);
          return JSON.stringify({ ...frame, requestId: id });
        }
      } catch {
        // Not JSON: the server answers it with an error, as it would directly.
      }
      return data;
    }

    /** @param {string} data */
    send(data) {
      if (this.readyState !== SharedWebSocket.OPEN) throw new Error("the socket is not open");
      if (this.real) this.real.send(data);
      else this.channel.postMessage({ t: "send", from: tab, data });
    }

    /** @param {number} [code] @param {string} [reason] */
    close(code, reason) {
      if (this.real) {
        if (this.real.readyState === SharedWebSocket.CLOSED) this.ended();
        else this.real.close(code, reason);
      } else {
        this.ended();
      }
    }

    /** The socket is over: tell whoever follows (if leading), let the lock go, close once. */
    ended() {
      if (this.readyState === SharedWebSocket.CLOSED) return;
      this.readyState = SharedWebSocket.CLOSED;
      if (this.real) this.channel.postMessage({ t: "closed" });
      this.relayed.clear();
      this.release();
      this.withdraw();
      this.channel.close();
      this.onclose?.({ code: 1006, reason: "" });
    }
  }
  return /** @type {any} */ (SharedWebSocket);
}

/**
 * The frame with its `requestId` back as the asking tab sent it (a string
 * replacement: the frame is passed on exactly as the server wrote it).
 * @param {string} text @param {string} tagged @param {string} original
 */
function retag(text, tagged, original) {
  return text.replace(JSON.stringify(tagged), JSON.stringify(original));
}
