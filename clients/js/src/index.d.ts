export { ChatState } from "./chat-state.js";
export { sharedWebSocket } from "./shared-socket.js";
export { ChatClient, newClientMessageId, sha256Base64 } from "./client.js";
export { ChatError, CLIENT_CODES, RETRYABLE } from "./errors.js";
export { indexedDbCache, memoryCache } from "./cache.js";
export { SendQueue, indexedDbOutbox, memoryOutbox } from "./outbox.js";
export { Encryption, memoryKeyStore } from "./encryption.js";
