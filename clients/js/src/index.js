// @ts-check
/**
 * The client library of the serverless messaging backend: one entry point
 * (`@serverless-chat/client`). The wire types (`./protocol`) are generated
 * from the server's own types; the rest is typed from JSDoc.
 * @module @serverless-chat/client
 */
export { ChatClient, newClientMessageId, sha256Base64 } from "./client.js";
export { ChatState } from "./chat-state.js";
export { ChatError, CLIENT_CODES, RETRYABLE } from "./errors.js";
export { indexedDbCache, memoryCache } from "./cache.js";
export { SendQueue, indexedDbOutbox, memoryOutbox } from "./outbox.js";
export { sharedWebSocket } from "./shared-socket.js";
export { Encryption, memoryKeyStore } from "./encryption.js";
