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
export function sharedWebSocket(name: string, deps?: {
    locks?: LockManager | null;
    BroadcastChannel?: typeof BroadcastChannel | null;
    WebSocket?: typeof WebSocket;
}): typeof WebSocket;
