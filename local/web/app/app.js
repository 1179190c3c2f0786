// The web app: a messenger on the client library, speaking only the
// documented protocol (docs/protocol.md, docs/http-api.md).
import { ChatClient, ChatError, indexedDbCache, indexedDbOutbox, sharedWebSocket } from "../client/index.js";

const $ = (id) => document.getElementById(id);
const state = {
  /** @type {ChatClient|null} */ client: null,
  me: "",
  device: "",
  /** chat summaries by id (GET /chats) */ chats: new Map(),
  /** whom this user blocks (listBlocked, blockUser) */ blocked: new Set(),
  /** @type {string|null} */ open: null,
  /** receipts per chat: user → {delivered, read} up to seq */ receipts: new Map(),
  /** per chat: user → the seq at which they were added (they see only what came after) */ joinedAt: new Map(),
  presence: new Map(),
  typing: new Map(),
  downloads: new Map(),
  hasMore: new Map(),
  /** chats whose latest history page was loaded */ loaded: new Set(),
  /** lines about the chat itself (added, removed, renamed), by chat: [{seq, text}] */ systemLines: new Map(),
};

// ---- sign in

async function config() {
  const response = await fetch("/config.json");
  if (!response.ok) throw new Error("no config.json: deploy it beside the app (README)");
  return response.json();
}

async function signIn(user, device) {
  const settings = await config();
  const response = await fetch(settings.devTokenUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId: user, deviceId: device }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.message ?? "sign-in failed");
  sessionStorage.setItem("chat.signin", JSON.stringify({ user, device, token: body.token }));
  await start(settings, user, device, body.token);
}

async function start(settings, user, device, token) {
  state.me = user;
  state.device = device;
  $("me").textContent = user;
  $("me-avatar").textContent = initials(user);
  $("signin").hidden = true;
  $("app").hidden = false;
  const client = new ChatClient({
    websocketUrl: settings.websocketUrl,
    httpApiUrl: settings.httpApiUrl,
    getToken: async () => token,
    userId: user,
    // Pending sends survive a reload (and go out once, in order, after it).
    outbox: indexedDbOutbox(`chat-outbox:${user}:${device}`),
    // The chat list and recent messages, to open on what was shown last.
    cache: indexedDbCache(`chat-cache:${user}:${device}`),
    // Tabs of this browser signed in as this device share one connection
    // (the server keeps one per device): none closes another's.
    WebSocket: sharedWebSocket(`chat-socket:${user}:${device}`),
  });
  state.client = client;
  // What another tab of this device sent (it shares the connection, and the
  // server does not echo a device's own sends): shown here too.
  const tabs = typeof BroadcastChannel === "function" ? new BroadcastChannel(`chat-tabs:${user}:${device}`) : null;
  client.addEventListener("sent", (e) => tabs?.postMessage(e.detail));
  if (tabs) {
    tabs.onmessage = (e) => {
      const message = e.data;
      if (!message?.chatId || !client.chat(message.chatId).put(message)) return;
      if (message.chatId === state.open) renderMessages();
      scheduleListRefresh();
    };
  }
  client.addEventListener("status", (e) => {
    $("connection").dataset.status = e.detail;
    $("connection").title = e.detail;
    // Shown only once a connection was lost (not while first connecting).
    $("offline").hidden = e.detail === "open" || e.detail === "replaced" || !state.wasOpen;
    $("replaced").hidden = e.detail !== "replaced";
    if (e.detail === "open") state.wasOpen = true;
  });
  // The token was refused (also a fresh one): the session is over.
  client.addEventListener("auth", () => toast(new ChatError("unauthorized", "Your session has ended: sign in again.")));
  client.addEventListener("chat", (e) => e.detail.chatId === state.open && renderMessages());
  client.addEventListener("newMessage", (e) => onNewMessage(e.detail));
  client.addEventListener("messageChanged", (e) => {
    scheduleListRefresh();
    // The message being answered was deleted for everyone: its words leave the composer too.
    const change = e.detail;
    if (change.change === "deleted" && state.replyTo?.chatId === change.chatId && state.replyTo.seq === change.targetSeq) {
      $("reply-text").textContent = "deleted message";
    }
  });
  for (const type of ["newChat", "chatUpdate", "chatInfo"]) client.addEventListener(type, () => scheduleListRefresh());
  client.addEventListener("chatUpdate", (e) => onChatUpdate(e.detail));
  client.addEventListener("chatInfo", (e) => onChatInfo(e.detail));
  client.addEventListener("chatDeleted", (e) => onChatDeleted(e.detail.chatId));
  client.addEventListener("readSync", (e) => onRead(e.detail.chatId, e.detail.upToSeq));
  client.addEventListener("receipt", (e) => onReceipt(e.detail));
  client.addEventListener("presence", (e) => onPresence(e.detail));
  client.addEventListener("typing", (e) => onTyping(e.detail));
  client.addEventListener("synced", async () => {
    // A device past the limit connects unregistered and may only list and
    // sign out devices: it says so and offers that, instead of failing.
    if (!(await checkRegistered())) return;
    refreshList();
    client.request("listBlocked").then((reply) => {
      state.blocked = new Set(reply.blocked);
      if (state.open) renderHeader();
    }, toast);
    if (state.open && state.loaded.has(state.open)) catchUp(state.open).catch(toast);
    watchPresence();
  });
  // What this device showed last, at once (and offline); sync and the
  // chat list's fetch then bring it up to date.
  // (Written a moment after each change; what is left is written as the page goes.)
  addEventListener("pagehide", () => void client.saveChats());
  const cached = await client.restoreCache().catch(() => null);
  if (cached && state.chats.size === 0) {
    state.chats = new Map(cached.map((c) => [c.chatId, c]));
    for (const chat of cached) {
      const lines = await client.cache.get(`lines:${chat.chatId}`).catch(() => undefined);
      if (Array.isArray(lines)) state.systemLines.set(chat.chatId, lines);
      const joined = await client.cache.get(`joined:${chat.chatId}`).catch(() => undefined);
      if (Array.isArray(joined)) state.joinedAt.set(chat.chatId, new Map(joined));
    }
    renderList();
  }
  await client.connect();
  // (updateProfile without changes answers the profile as it is.)
  client.request("updateProfile", {}).then((profile) => showOwnAvatar(profile.avatar?.attachmentId), () => undefined);
}

// ---- chat list

let listTimer = null;
function scheduleListRefresh() {
  clearTimeout(listTimer);
  listTimer = setTimeout(refreshList, 150);
}

async function refreshList() {
  try {
    const page = await state.client.chatList({ limit: 100 });
    state.chats = new Map(page.chats.map((c) => [c.chatId, c]));
    if (state.open && state.chats.has(state.open)) {
      const open = state.chats.get(state.open);
      if (open.unreadCount > 0) markVisibleRead();
    }
    renderList();
    if (state.open) renderHeader();
  } catch (e) {
    toast(e);
  }
}

/** Presigned avatar downloads by attachmentId: {url, expiresAt}. */
const avatars = new Map();

/**
 * Puts the user's avatar picture in `span` (which shows their initials until
 * it loads, or if it cannot), asking for a fresh link when the last expired.
 */
function showAvatar(span, userId, attachmentId) {
  const put = (url) => {
    span.style.backgroundImage = `url("${url}")`;
    span.classList.add("picture");
  };
  const known = avatars.get(attachmentId);
  if (known && known.expiresAt - Date.now() > 30_000) return put(known.url);
  state.client
    .avatar(userId)
    .then((d) => {
      avatars.set(d.attachmentId, { url: d.url, expiresAt: d.expiresAt });
      if (d.attachmentId === attachmentId) put(d.url);
    })
    .catch(() => undefined);
}

function chatName(chat) {
  if (!chat) return "";
  if (chat.kind === "group") return chat.name ?? "Group";
  return chat.peerName ?? peerOf(chat) ?? "Chat";
}

function peerOf(chat) {
  return chat?.participants?.find((p) => p !== state.me);
}

function renderList() {
  const unread = [...state.chats.values()].reduce((sum, chat) => sum + (chat.unreadCount ?? 0), 0);
  document.title = unread > 0 ? `(${unread}) Chat` : "Chat";
  const list = $("chat-list");
  const focused = list.contains(document.activeElement) ? document.activeElement.closest(".chat-item")?.dataset.chatId : null;
  list.replaceChildren();
  const chats = [...state.chats.values()].sort((a, b) => b.lastActiveAt - a.lastActiveAt);
  $("no-chats").hidden = chats.length > 0;
  for (const chat of chats) {
    const item = document.createElement("li");
    item.className = "chat-item";
    item.dataset.chatId = chat.chatId;
    item.dataset.unread = String(chat.unreadCount);
    if (chat.unreadCount > 0) item.classList.add("unread");
    if (chat.chatId === state.open) item.classList.add("selected");
    const preview = chat.lastMessage;
    const text = !preview ? (chat.request ? "Message request" : "") : preview.deleted ? "🚫 deleted" : previewText(preview);
    // A button inside the item: reachable by Tab, opened by Enter or Space.
    item.innerHTML = `
      <button type="button" class="chat-open">
        <span class="avatar" aria-hidden="true"></span>
        <span class="chat-main">
          <span class="chat-top"><span class="chat-name"></span><time class="chat-time"></time></span>
          <span class="chat-bottom"><span class="chat-preview"></span><span class="badges"></span></span>
        </span>
      </button>`;
    item.querySelector(".avatar").textContent = initials(chatName(chat));
    if (chat.kind !== "group" && chat.peerAvatar) showAvatar(item.querySelector(".avatar"), peerOf(chat), chat.peerAvatar);
    item.querySelector(".chat-name").textContent = chatName(chat);
    item.querySelector(".chat-time").textContent = preview ? shortTime(preview.sentAt) : "";
    item.querySelector(".chat-preview").textContent = text;
    const badges = item.querySelector(".badges");
    if (chat.muted) badges.insertAdjacentHTML("beforeend", `<span class="muted-badge" role="img" aria-label="muted" title="muted">🔕</span>`);
    if (chat.mentionCount > 0) badges.insertAdjacentHTML("beforeend", `<span class="mention-badge" title="mentions">@</span>`);
    if (chat.unreadCount > 0) badges.insertAdjacentHTML("beforeend", `<span class="unread-badge">${chat.unreadCount}</span>`);
    if (chat.chatId === state.open) item.querySelector(".chat-open").setAttribute("aria-current", "true");
    item.addEventListener("click", () => openChat(chat.chatId));
    list.append(item);
  }
  // (Rebuilt on every change: the chat that had the focus keeps it.)
  if (focused) list.querySelector(`.chat-item[data-chat-id="${CSS.escape(focused)}"] .chat-open`)?.focus();
}

/** One's own message: its chat goes to the top of the list with it as the preview. */
function ownMessageShown(chatId, text, attachmentCount, seq) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  if (seq !== undefined && seq < (chat.lastSeq ?? 0)) return;
  if (seq !== undefined) chat.lastSeq = seq;
  chat.lastActiveAt = Date.now();
  chat.lastMessage = { seq: seq ?? chat.lastSeq, senderId: state.me, text, attachmentCount, sentAt: Date.now() };
  chat.unreadCount = 0;
  renderList();
}

function previewText(preview) {
  const who = preview.senderId === state.me ? "You: " : "";
  if (preview.text) return who + preview.text;
  return who + (preview.attachmentCount > 0 ? "📎 attachment" : "");
}

function onNewMessage(message) {
  const chat = state.chats.get(message.chatId);
  if (!chat) {
    scheduleListRefresh();
    return;
  }
  if (message.seq > chat.lastSeq) {
    chat.lastSeq = message.seq;
    chat.lastActiveAt = message.sentAt;
    chat.lastMessage = { seq: message.seq, senderId: message.senderId, text: message.message, attachmentCount: (message.attachments ?? []).length, sentAt: message.sentAt };
    if (message.senderId !== state.me) {
      if (message.chatId === state.open && visible()) markVisibleRead();
      else chat.unreadCount += 1;
      if ((message.mentions ?? []).includes(state.me) && message.chatId !== state.open) chat.mentionCount += 1;
      notify(chat, message);
    }
  }
  // The message "typing…" announced is here: the indicator goes with it,
  // not when its timer runs out.
  if (state.typing.get(message.chatId)?.has(message.senderId)) {
    onTyping({ chatId: message.chatId, userId: message.senderId, typing: false });
  }
  renderList();
}

/**
 * A desktop notification for a message from someone else, while the tab is
 * hidden and the person allowed them: none for a muted chat, and a request's
 * words are not shown (as the server's pushes do). Clicking it opens the chat.
 */
function notify(chat, message) {
  if (!document.hidden || typeof Notification !== "function" || Notification.permission !== "granted") return;
  if (chat.muted || localStorage.getItem("chat.notifications") === "off") return;
  const body = chat.request ? "New message request" : message.message || ((message.attachments ?? []).length > 0 ? "📎 attachment" : "New message");
  const shown = new Notification(chatName(chat), { body, tag: chat.chatId });
  shown.onclick = () => {
    window.focus();
    openChat(chat.chatId);
    shown.close();
  };
}

function onRead(chatId, upToSeq) {
  const chat = state.chats.get(chatId);
  if (chat && upToSeq >= chat.lastRead) {
    // Read on another device: the list catches up (counts come from the server).
    chat.lastRead = upToSeq;
    scheduleListRefresh();
  }
}

// ---- conversation

async function openChat(chatId) {
  const summary = state.chats.get(chatId);
  // Where the unread messages begin: marked until another chat is opened.
  state.unreadFrom = summary?.unreadCount > 0 ? { chatId, after: summary.lastRead, count: summary.unreadCount } : null;
  state.open = chatId;
  $("conversation").dataset.open = "true";
  $("pick-a-chat").hidden = true;
  renderList();
  renderHeader();
  renderMessages();
  // Cached messages are shown at once, the newest in view.
  if (state.client.chat(chatId).list().length > 0) scrollToEnd();
  try {
    if (!state.loaded.has(chatId)) {
      const page = await state.client.history(chatId, { limit: 50 });
      state.hasMore.set(chatId, page.hasMore);
      state.loaded.add(chatId);
    } else {
      await catchUp(chatId);
    }
    scrollToEnd();
    markVisibleRead();
    seedReceipts(chatId);
    await watchPresence();
  } catch (e) {
    toast(e);
  }
}

/** Anything after what this device holds (after a reconnect, or when messages were missed). */
async function catchUp(chatId) {
  const state_ = state.client.chat(chatId);
  let after = state_.lastSeq();
  for (;;) {
    const page = await state.client.history(chatId, { after, limit: 100 });
    if (!page.hasMore) break;
    after = Math.max(after, ...page.messages.map((m) => m.seq), ...(page.events ?? []).map((e) => e.seq), ...(page.hidden ?? []));
  }
}

async function loadOlder() {
  const chatId = state.open;
  if (!chatId || state.hasMore.get(chatId) === false || state.loadingOlder) return;
  const first = state.client.chat(chatId).firstSeq();
  if (first <= 1) return;
  state.loadingOlder = true;
  const box = $("messages");
  const before = box.scrollHeight - box.scrollTop;
  try {
    const page = await state.client.history(chatId, { before: first, limit: 50 });
    state.hasMore.set(chatId, page.hasMore);
    box.scrollTop = box.scrollHeight - before;
  } catch (e) {
    toast(e);
  } finally {
    state.loadingOlder = false;
  }
}

function renderHeader() {
  const chat = state.chats.get(state.open);
  $("chat-title").textContent = chatName(chat);
  const typing = [...(state.typing.get(state.open)?.keys() ?? [])];
  let subtitle = "";
  if (typing.length > 0) subtitle = `${typing.join(", ")} typing…`;
  else if (chat?.kind === "group") subtitle = chat.participants.join(", ");
  else {
    const presence = state.presence.get(peerOf(chat));
    if (presence?.online) subtitle = "online";
    else if (presence?.lastSeen) subtitle = `last seen ${shortTime(presence.lastSeen)}`;
  }
  $("chat-subtitle").textContent = subtitle;
  $("members-button").hidden = chat?.kind !== "group" || chat?.removedAtSeq != null;
  $("members-button").setAttribute("aria-label", "Group info and members");
  $("request-banner").hidden = !chat?.request;
  const removed = chat?.removedAtSeq != null;
  $("removed-banner").hidden = !removed;
  // A 1-1 chat with someone this user blocks: neither may write until unblocked.
  const peer = chat?.kind === "direct" ? peerOf(chat) : null;
  const blocked = peer != null && state.blocked.has(peer);
  const muted = chat?.muted === true;
  $("mute-button").hidden = !chat || removed;
  $("mute-button").setAttribute("aria-pressed", String(muted));
  $("mute-button").setAttribute("aria-label", muted ? "Unmute notifications" : "Mute notifications");
  $("mute-button").title = muted ? "Unmute" : "Mute";
  $("mute-button").textContent = muted ? "🔕" : "🔔";
  $("block-button").hidden = !peer;
  $("block-button").setAttribute("aria-pressed", String(blocked));
  $("block-button").setAttribute("aria-label", blocked ? `Unblock ${peer}` : `Block ${peer}`);
  $("block-button").title = blocked ? "Unblock" : "Block";
  $("blocked-banner").hidden = !blocked;
  $("blocked-text").textContent = blocked ? `You blocked ${chatName(chat)}: neither of you can write here, and they no longer see your presence.` : "";
  if (blocked) $("request-banner").hidden = true;
  $("composer").hidden = removed || blocked;
}

/** Blocks (or unblocks) the open 1-1 chat's other member; the reply is the block list now. @param {boolean} blocked */
async function setBlocked(blocked) {
  const peer = peerOf(state.chats.get(state.open));
  if (!peer) return;
  try {
    const reply = await state.client.request("blockUser", { userId: peer, blocked });
    state.blocked = new Set(reply.blocked);
    renderHeader();
    (blocked ? $("unblock") : $("text")).focus();
  } catch (e) {
    toast(e);
  }
}

/**
 * A message's text as nodes (never HTML: the text is a stranger's): web
 * links become links that open in a new tab, and `@user` of a mentioned
 * member is highlighted.
 */
function richText(text, mentions) {
  const nodes = [];
  const pattern = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])|@([A-Za-z0-9_.]+)/g;
  let at = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > at) nodes.push(document.createTextNode(text.slice(at, match.index)));
    if (match[1]) {
      const link = document.createElement("a");
      link.href = match[1];
      link.textContent = match[1];
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      nodes.push(link);
    } else if (mentions.includes(match[2])) {
      const mention = document.createElement("span");
      mention.className = "mention";
      mention.textContent = match[0];
      nodes.push(mention);
    } else {
      nodes.push(document.createTextNode(match[0]));
    }
    at = match.index + match[0].length;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

function renderMessages() {
  const box = $("messages");
  const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  // Rebuilt on every change: what had the keyboard's focus (a bubble, or one
  // of its buttons) gets it back.
  const active = box.contains(document.activeElement) ? document.activeElement : null;
  const focusedMessage = active?.closest(".bubble")?.dataset.clientMessageId;
  const focusedAction = active?.dataset.action;
  box.replaceChildren();
  if (!state.open) return;
  const chat = state.chats.get(state.open);
  const lines = [...(state.systemLines.get(state.open) ?? [])].sort((a, b) => a.seq - b.seq);
  // A line of the conversation's own between the bubbles.
  const aside = (className, role, text) => {
    const element = document.createElement("div");
    element.className = className;
    if (role) element.setAttribute("role", role);
    element.textContent = text;
    box.append(element);
    return element;
  };
  const systemLine = (line) => aside("system-line", "note", line.text);
  const marker = state.unreadFrom?.chatId === state.open ? state.unreadFrom : null;
  let markerShown = false;
  let lastDay = "";
  for (const message of state.client.chat(state.open).list()) {
    while (lines.length > 0 && lines[0].seq < message.seq) systemLine(lines.shift());
    const day = dayOf(message.sentAt);
    if (day !== lastDay) {
      lastDay = day;
      aside("day-separator", "separator", day);
    }
    if (marker && !markerShown && message.seq > marker.after && message.senderId !== state.me && message.seq !== Infinity) {
      markerShown = true;
      aside("unread-marker", null, marker.count === 1 ? "1 unread message" : `${marker.count} unread messages`).id = "unread-marker";
    }
    const mine = message.senderId === state.me || message.pending;
    const bubble = document.createElement("div");
    bubble.className = `bubble ${mine ? "mine" : "theirs"}`;
    // Reachable by Tab: its actions show while it (or one of them) has the focus.
    bubble.tabIndex = 0;
    if (message.seq !== Infinity) bubble.dataset.seq = String(message.seq);
    bubble.dataset.clientMessageId = message.clientMessageId;
    if (chat?.kind === "group" && !mine) bubble.insertAdjacentHTML("beforeend", `<div class="sender"></div>`);
    if (message.replyTo) bubble.insertAdjacentHTML("beforeend", `<div class="quote"></div>`);
    bubble.insertAdjacentHTML("beforeend", `<div class="text"></div>`);
    if (chat?.kind === "group" && !mine) bubble.querySelector(".sender").textContent = message.senderId;
    if (message.replyTo) bubble.querySelector(".quote").textContent = message.replyTo.deleted ? "deleted message" : `${message.replyTo.senderId}: ${message.replyTo.snippet}`;
    const text = bubble.querySelector(".text");
    if (message.deleted) {
      text.textContent = "🚫 This message was deleted";
      bubble.classList.add("deleted");
    } else {
      text.replaceChildren(...richText(message.message, message.mentions ?? []));
    }
    text.dir = "auto";
    for (const attachment of message.attachments ?? []) bubble.append(attachmentView(message.chatId, attachment));
    if ((message.reactions ?? []).length > 0) {
      const reactions = document.createElement("div");
      reactions.className = "reactions";
      reactions.textContent = message.reactions.map((r) => `${r.emoji}${r.count > 1 ? r.count : ""}`).join(" ");
      reactions.title = message.reactions.map((r) => `${r.emoji} ${r.users.join(", ")}`).join("\n");
      bubble.append(reactions);
    }
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `${message.editedAt ? "edited · " : ""}${shortTime(message.sentAt)}`;
    if (mine) {
      const status = document.createElement("span");
      const s = statusOf(message);
      status.className = `status ${s}`;
      status.dataset.status = s;
      status.textContent = { pending: "🕓", failed: "⚠", sent: "✓", delivered: "✓✓", read: "✓✓" }[s];
      status.title = s;
      meta.append(" ", status);
    }
    bubble.append(meta);
    if (message.failed) bubble.append(failedActions(message));
    if (!message.pending && !message.deleted) bubble.append(actions(message, mine));
    box.append(bubble);
  }
  for (const line of lines) systemLine(line);
  if (focusedMessage) {
    const bubble = [...box.querySelectorAll(".bubble")].find((b) => b.dataset.clientMessageId === focusedMessage);
    // The bubble first: its actions show (and can take the focus) once it has it.
    bubble?.focus({ preventScroll: true });
    if (focusedAction) bubble?.querySelector(`[data-action="${focusedAction}"]`)?.focus({ preventScroll: true });
  }
  if (atEnd) scrollToEnd();
}

/** A send the server refused: send it again (same clientMessageId) or drop it. */
function failedActions(message) {
  const bar = document.createElement("div");
  bar.className = "failed-actions";
  const note = document.createElement("span");
  note.textContent = `Not sent (${message.failed}).`;
  const retry = document.createElement("button");
  retry.type = "button";
  retry.className = "retry";
  retry.textContent = "Retry";
  retry.addEventListener("click", () => state.client.retry(message.chatId, message.clientMessageId).catch(toast));
  const discard = document.createElement("button");
  discard.type = "button";
  discard.className = "discard";
  discard.textContent = "Delete";
  discard.addEventListener("click", () => state.client.discard(message.chatId, message.clientMessageId));
  bar.append(note, " ", retry, " ", discard);
  return bar;
}

function actions(message, mine) {
  const bar = document.createElement("div");
  bar.className = "actions";
  for (const [emoji, name] of [["👍", "thumbs-up"], ["❤️", "heart"], ["😂", "laughing"]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = emoji;
    button.dataset.action = `react-${name}`;
    button.setAttribute("aria-label", `React with ${name.replace("-", " ")}`);
    button.addEventListener("click", () => react(message, emoji));
    bar.append(button);
  }
  const more = document.createElement("button");
  more.type = "button";
  more.textContent = "＋";
  more.dataset.action = "react-more";
  more.setAttribute("aria-label", "React with another emoji");
  more.addEventListener("click", () => pickReaction(message).catch(toast));
  bar.append(more);
  const others = [
    ["Reply", async () => startReply(message)],
    ["Delete for me", () => state.client.deleteMessage(message.chatId, message.seq, false)],
  ];
  if (mine) {
    others.push(["Edit", async () => startEdit(message)]);
    others.push(["Delete for everyone", () => deleteForEveryone(message)]);
  }
  for (const [label, run] of others) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.dataset.action = label.toLowerCase().replaceAll(" ", "-");
    button.addEventListener("click", () => run().catch(toast));
    bar.append(button);
  }
  return bar;
}

/** Replying to a message: shown above the composer until sent or cancelled (Esc). */
function startReply(message) {
  state.editing = null;
  state.replyTo = { chatId: message.chatId, seq: message.seq };
  $("reply-label").textContent = "Replying to";
  $("reply-preview").hidden = false;
  $("reply-text").textContent = `${message.senderId === state.me ? "You" : message.senderId}: ${message.message}`;
  $("text").focus();
}

function cancelReply() {
  if (state.editing) $("text").value = "";
  state.replyTo = null;
  state.editing = null;
  $("reply-preview").hidden = true;
}

function react(message, emoji) {
  const mine = (message.reactions ?? []).find((r) => r.users.includes(state.me))?.emoji;
  state.client.react(message.chatId, message.seq, mine === emoji ? null : emoji).catch(toast);
}

/**
 * Any emoji as a reaction: emoji-picker-element (npm, served at /vendor/ with
 * its data), loaded the first time it is needed. Its search takes the focus;
 * arrows and Enter choose; Esc closes the dialog.
 */
async function pickReaction(message) {
  const dialog = $("emoji-dialog");
  let picker = dialog.querySelector("emoji-picker");
  if (!picker) {
    await import("/vendor/emoji-picker-element/index.js");
    picker = document.createElement("emoji-picker");
    picker.dataSource = "/vendor/emoji-picker-element-data/en/emojibase/data.json";
    picker.addEventListener("emoji-click", (event) => {
      const chosen = dialog.message;
      dialog.close();
      if (chosen && event.detail.unicode) react(chosen, event.detail.unicode);
    });
    dialog.querySelector(".card").append(picker);
  }
  dialog.message = message;
  dialog.showModal();
  // A fresh search each time (Esc in a search field with text would clear it
  // rather than close the dialog).
  const search = picker.shadowRoot?.querySelector("#search");
  if (search?.value) {
    search.value = "";
    search.dispatchEvent(new Event("input", { bubbles: true }));
  }
  search?.focus();
}

/** Editing one's message in the composer (as a reply is written there), until sent or Esc. */
function startEdit(message) {
  state.replyTo = null;
  state.editing = { chatId: message.chatId, seq: message.seq, original: message.message };
  $("reply-label").textContent = "Editing";
  $("reply-text").textContent = message.message;
  $("reply-preview").hidden = false;
  $("text").value = message.message;
  $("text").focus();
}

/** Asks first: a deletion for everyone cannot be undone. */
async function deleteForEveryone(message) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = message.message || "this message";
  dialog.returnValue = "";
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  if (dialog.returnValue === "delete") await state.client.deleteMessage(message.chatId, message.seq, true);
}

function attachmentView(chatId, attachment) {
  const wrap = document.createElement("div");
  wrap.className = "attachment";
  const isImage = attachment.contentType.startsWith("image/");
  const url = freshDownload(attachment.attachmentId);
  if (isImage) {
    // The picture opens in the viewer: a button, so a keyboard opens it too.
    const open = document.createElement("button");
    open.type = "button";
    open.className = "image-open";
    open.dataset.action = "view-image";
    open.dataset.attachmentId = attachment.attachmentId;
    open.setAttribute("aria-label", `Open image ${attachment.fileName}`);
    const img = document.createElement("img");
    img.alt = attachment.fileName;
    img.className = "image";
    if (url) img.src = url;
    open.append(img);
    open.addEventListener("click", () => viewImage(chatId, attachment).catch(toast));
    wrap.append(open);
  }
  const link = document.createElement("a");
  link.textContent = `${isImage ? "" : "📄 "}${attachment.fileName} (${size(attachment.size)})`;
  link.className = "file";
  link.download = attachment.fileName;
  if (url) link.href = url;
  // A link shown a while ago may have expired (presigned for minutes): a
  // click then asks for a fresh one rather than opening S3's error page.
  link.addEventListener("click", async (event) => {
    if (freshDownload(attachment.attachmentId)) return;
    event.preventDefault();
    try {
      const d = await fetchDownload(chatId, attachment.attachmentId);
      window.open(d.url, "_blank", "noopener");
    } catch (e) {
      toast(e);
    }
  });
  wrap.append(link);
  if (!url) fetchDownload(chatId, attachment.attachmentId).then(renderMessages).catch(toast);
  return wrap;
}

/** Shows an image at the size of the window; Esc or ✕ closes it, the focus going back to its thumbnail. */
async function viewImage(chatId, attachment) {
  const url = freshDownload(attachment.attachmentId) ?? (await fetchDownload(chatId, attachment.attachmentId)).url;
  const dialog = $("image-viewer");
  $("viewer-image").src = url;
  $("viewer-image").alt = attachment.fileName;
  $("viewer-name").textContent = attachment.fileName;
  $("viewer-download").href = url;
  $("viewer-download").download = attachment.fileName;
  dialog.addEventListener(
    "close",
    () => document.querySelector(`#messages [data-attachment-id="${CSS.escape(attachment.attachmentId)}"]`)?.focus(),
    { once: true },
  );
  dialog.showModal();
}

/** A presigned download URL still good for half a minute, if one is known. */
function freshDownload(attachmentId) {
  const known = state.downloads.get(attachmentId);
  return known && known.expiresAt - Date.now() > 30_000 ? known.url : null;
}

async function fetchDownload(chatId, attachmentId) {
  const d = await state.client.download(chatId, attachmentId);
  state.downloads.set(attachmentId, { url: d.url, expiresAt: d.expiresAt });
  return d;
}

function statusOf(message) {
  if (message.failed) return "failed";
  if (message.pending) return "pending";
  const chat = state.chats.get(message.chatId);
  // Those who could see it: a member added after it never receives it, and
  // must not turn its ticks back to grey.
  const joined = state.joinedAt.get(message.chatId) ?? new Map();
  const others = (chat?.participants ?? []).filter((p) => p !== state.me && !(joined.get(p) >= message.seq));
  const receipts = state.receipts.get(message.chatId) ?? new Map();
  const all = (field) => others.length > 0 && others.every((u) => (receipts.get(u)?.[field] ?? 0) >= message.seq);
  if (all("read")) return "read";
  if (all("delivered") || all("read")) return "delivered";
  return "sent";
}

function onReceipt(receipt) {
  const receipts = state.receipts.get(receipt.chatId) ?? new Map();
  const known = receipts.get(receipt.userId) ?? { delivered: 0, read: 0 };
  known[receipt.status] = Math.max(known[receipt.status], receipt.upToSeq);
  if (receipt.status === "read") known.delivered = Math.max(known.delivered, receipt.upToSeq);
  receipts.set(receipt.userId, known);
  state.receipts.set(receipt.chatId, receipts);
  if (receipt.chatId === state.open) renderMessages();
}

/** After a reload, the status of my last message comes from `messageStatus`. */
async function seedReceipts(chatId) {
  const mine = state.client.chat(chatId).list().filter((m) => m.senderId === state.me && !m.pending).pop();
  if (!mine) return;
  try {
    const status = await state.client.request("messageStatus", { chatId, seq: mine.seq });
    for (const r of status.recipients) {
      if (r.read) onReceipt({ chatId, userId: r.userId, status: "read", upToSeq: mine.seq });
      else if (r.delivered) onReceipt({ chatId, userId: r.userId, status: "delivered", upToSeq: mine.seq });
    }
  } catch (e) {
    // (Not shown: the bubbles simply show "sent".)
  }
}

function onPresence(presence) {
  state.presence.set(presence.userId, presence);
  if (state.open) renderHeader();
}

function onTyping(typing) {
  const who = state.typing.get(typing.chatId) ?? new Map();
  clearTimeout(who.get(typing.userId));
  if (typing.typing) {
    who.set(typing.userId, setTimeout(() => {
      who.delete(typing.userId);
      if (state.open === typing.chatId) renderHeader();
    }, typing.expiresInMs));
  } else who.delete(typing.userId);
  state.typing.set(typing.chatId, who);
  if (state.open === typing.chatId) renderHeader();
}

function visible() {
  return document.visibilityState === "visible";
}

/** Marks the open chat read when it is on screen. */
function markVisibleRead() {
  const chatId = state.open;
  if (!chatId || !visible()) return;
  const last = state.client.chat(chatId).lastSeq();
  const chat = state.chats.get(chatId);
  // A request is read once accepted: until then its sender learns nothing.
  if (!chat || chat.request || last === 0 || (chat.lastRead >= last && chat.unreadCount === 0)) return;
  chat.unreadCount = 0;
  chat.mentionCount = 0;
  chat.lastRead = Math.max(chat.lastRead, last);
  renderList();
  state.client.markRead(chatId, last).catch(toast);
}

function scrollToEnd() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

// ---- sending

async function send(event) {
  event.preventDefault();
  const input = $("text");
  const text = input.value;
  if (!text.trim() || !state.open) return;
  input.value = "";
  if (state.editing?.chatId === state.open) {
    const { chatId, seq, original } = state.editing;
    state.editing = null;
    cancelReply();
    if (text !== original) await state.client.editMessage(chatId, seq, text).catch(toast);
    return;
  }
  const chat = state.chats.get(state.open);
  if (chat?.request) {
    // Replying accepts the request (the server does so with the send).
    chat.request = false;
    renderHeader();
  }
  try {
    const replyTo = state.replyTo?.chatId === state.open ? state.replyTo.seq : undefined;
    cancelReply();
    const chatId = state.open;
    const sending = state.client.sendMessage(chatId, text, { senderId: state.me, replyTo });
    scrollToEnd();
    ownMessageShown(chatId, text, 0);
    const result = await sending;
    ownMessageShown(chatId, text, 0, result.seq);
  } catch (e) {
    toast(e);
  }
}

async function attach() {
  const file = $("file-input").files[0];
  $("file-input").value = "";
  await sendFile(file);
}

/** Uploads a file (picked, pasted or dropped) and sends it, the composer's text as its caption. */
async function sendFile(file) {
  if (!file || !state.open || state.chats.get(state.open)?.removedAtSeq != null) return;
  const chatId = state.open;
  $("upload").hidden = false;
  $("upload-name").textContent = file.name;
  $("upload-progress").value = 0;
  try {
    const attachment = await state.client.upload(chatId, file, { onProgress: (f) => ($("upload-progress").value = f) });
    $("upload-progress").value = 1;
    const caption = $("text").value;
    $("text").value = "";
    const result = await state.client.sendMessage(chatId, caption, { attachments: [attachment], senderId: state.me });
    ownMessageShown(chatId, caption, 1, result.seq);
  } catch (e) {
    toast(e);
  } finally {
    $("upload").hidden = true;
  }
}

let lastTyping = 0;
function typed() {
  if (!state.open || Date.now() - lastTyping < 3000) return;
  lastTyping = Date.now();
  state.client.typing(state.open, true);
}

// ---- dialogs

/** Starts a chat; a refusal (no such user, blocked, too many) stays in the dialog, said in words. */
async function newChat(event) {
  if (event.submitter?.value !== "create") return;
  event.preventDefault();
  const participants = $("new-chat-participants").value.split(",").map((p) => p.trim()).filter(Boolean);
  const name = $("new-chat-name").value.trim();
  const error = $("new-chat-error");
  error.hidden = true;
  try {
    const created = await state.client.createChat(participants, name || undefined);
    $("new-chat-form").reset();
    $("new-chat-dialog").close();
    await refreshList();
    openChat(created.chatId);
  } catch (e) {
    error.textContent = e?.code === "unknown_user" ? `${e.message}. Check the id, or ask them to sign in first.` : String(e?.message ?? e);
    error.hidden = false;
    $("new-chat-participants").focus();
  }
}

/** Group info: name and description (admins edit them), members with their roles. */
async function showMembers() {
  const chat = state.chats.get(state.open);
  if (!chat) return;
  let details;
  try {
    details = await state.client.chatDetails(chat.chatId);
  } catch (e) {
    toast(e);
    return;
  }
  const admins = new Set(details.admins ?? []);
  const amAdmin = admins.has(state.me);
  $("group-name").value = details.name ?? "";
  $("group-description").value = details.description ?? "";
  for (const field of ["group-name", "group-description"]) $(field).readOnly = !amAdmin;
  $("group-save").hidden = !amAdmin;
  $("member-add-id").closest(".row").hidden = !amAdmin;
  const list = $("members-list");
  list.replaceChildren();
  const act = async (member, operation) => {
    try {
      const done = await state.client.modifyParticipants(chat.chatId, member, operation);
      // (The others are told by a chatUpdate; the one who did it by the reply.)
      onChatUpdate({ ...done, by: state.me, userId: member, operation });
      $("members-dialog").close();
      refreshList();
    } catch (e) {
      toast(e);
    }
  };
  const button = (label, action) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", action);
    return b;
  };
  for (const member of details.participants ?? chat.participants ?? []) {
    const item = document.createElement("li");
    item.dataset.member = member;
    const name = document.createElement("span");
    name.textContent = `${member}${member === state.me ? " (you)" : ""}${admins.has(member) ? " · admin" : ""}`;
    item.append(name);
    if (amAdmin && member !== state.me) {
      item.append(admins.has(member) ? button("Dismiss as admin", () => act(member, "DEMOTE")) : button("Make admin", () => act(member, "PROMOTE")));
    }
    if (member === state.me) item.append(button("Leave", () => act(member, "REMOVE")));
    else if (amAdmin) item.append(button("Remove", () => act(member, "REMOVE")));
    list.append(item);
  }
  $("members-dialog").showModal();
}

/** An admin saves the group's name and description; every member hears of it (chatInfo). */
async function saveGroupInfo() {
  const chat = state.chats.get(state.open);
  if (!chat) return;
  const name = $("group-name").value.trim();
  const description = $("group-description").value.trim();
  try {
    const info = await state.client.request("updateChat", { chatId: chat.chatId, name: name || undefined, description });
    onChatInfo({ ...info, by: state.me });
    chat.name = info.name ?? chat.name;
    chat.description = info.description ?? undefined;
    $("members-dialog").close();
    renderHeader();
    renderList();
    refreshList();
  } catch (e) {
    toast(e);
  }
}

async function addMember() {
  const id = $("member-add-id").value.trim();
  if (!id) return;
  try {
    const done = await state.client.modifyParticipants(state.open, id, "ADD");
    onChatUpdate({ ...done, by: state.me, userId: id, operation: "ADD" });
    $("member-add-id").value = "";
    $("members-dialog").close();
    refreshList();
  } catch (e) {
    toast(e);
  }
}

// ---- devices

/** False (and the devices dialog open, explaining) when this device is not registered. */
async function checkRegistered() {
  const devices = await state.client.listDevices().catch(() => null);
  if (!devices || devices.currentRegistered) return true;
  showDevices(devices);
  return false;
}

async function showDevices(known) {
  const devices = known ?? (await state.client.listDevices().catch((e) => (toast(e), null)));
  if (!devices) return;
  $("devices-full").hidden = devices.currentRegistered;
  $("devices-full").textContent = `You are signed in on ${devices.devices.length} devices, the most there can be. Sign one of them out to use this one.`;
  const list = $("devices-list");
  list.replaceChildren();
  for (const device of devices.devices) {
    const item = document.createElement("li");
    item.dataset.deviceId = device.deviceId;
    const label = document.createElement("span");
    const seen = device.online ? "online" : device.connectedAt ? `last connected ${shortTime(device.connectedAt)}` : "never connected";
    label.textContent = `${device.deviceId}${device.current ? " (this device)" : ""} · ${seen}`;
    const out = document.createElement("button");
    out.type = "button";
    out.textContent = "Sign out";
    out.setAttribute("aria-label", `Sign ${device.deviceId} out`);
    out.addEventListener("click", () => signOut(device.deviceId, device.current, devices.currentRegistered));
    item.append(label, out);
    list.append(item);
  }
  if (!$("devices-dialog").open) $("devices-dialog").showModal();
}

/** The caller's profile and privacy, as the server has them (both routes answer the settings now when given none). */
async function showSettings() {
  const [profile, privacy] = await Promise.all([state.client.request("updateProfile", {}), state.client.request("setPrivacy", {})]);
  $("profile-avatar").value = "";
  $("profile-avatar-remove").checked = false;
  $("profile-avatar-remove").closest("label").hidden = !profile.avatar;
  $("profile-name").value = profile.displayName ?? "";
  $("profile-about").value = profile.about ?? "";
  $("privacy-presence").value = privacy.presence;
  $("privacy-receipts").checked = privacy.readReceipts;
  $("notifications").checked = typeof Notification === "function" && Notification.permission === "granted" && localStorage.getItem("chat.notifications") !== "off";
  $("notifications").disabled = typeof Notification !== "function" || Notification.permission === "denied";
  const dialog = $("settings-dialog");
  dialog.returnValue = "";
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  if (dialog.returnValue !== "save") return;
  // Desktop notifications are this browser's: asked of it (a click is what
  // lets a page ask), kept in its storage.
  const wantsNotifications = $("notifications").checked;
  localStorage.setItem("chat.notifications", wantsNotifications ? "on" : "off");
  if (wantsNotifications && typeof Notification === "function" && Notification.permission === "default") await Notification.requestPermission();
  const name = $("profile-name").value.trim();
  const changes = { about: $("profile-about").value.trim() };
  if (name) changes.displayName = name;
  try {
    const saved = await state.client.request("updateProfile", changes);
    await state.client.request("setPrivacy", { presence: $("privacy-presence").value, readReceipts: $("privacy-receipts").checked });
    let avatar = saved.avatar?.attachmentId;
    const photo = $("profile-avatar").files?.[0];
    if (photo) avatar = await state.client.setAvatar(photo);
    else if ($("profile-avatar-remove").checked) avatar = (await state.client.removeAvatar()).avatar?.attachmentId;
    showOwnAvatar(avatar);
  } catch (e) {
    toast(e);
  }
}

/** The signed-in user's picture (its attachmentId) in the sidebar's bar; initials without one. */
function showOwnAvatar(attachmentId) {
  const span = $("me-avatar");
  span.style.backgroundImage = "";
  span.classList.remove("picture");
  if (attachmentId) showAvatar(span, state.me, attachmentId);
}

async function signOut(deviceId, current, registered) {
  try {
    await state.client.unregisterDevice(current ? undefined : deviceId);
  } catch (e) {
    toast(e);
    return;
  }
  $("devices-dialog").close();
  if (current) {
    // This device is signed out: its token is revoked, what it kept is
    // deleted; back to the sign-in form.
    await state.client.clearCache().catch(() => undefined);
    state.client.close();
    sessionStorage.removeItem("chat.signin");
    location.reload();
  } else if (!registered) {
    // A place is free: connecting again registers this device.
    state.client.close();
    state.client.connect().catch(toast);
  }
}

// ---- what happens to a chat itself

function who(userId) {
  return userId === state.me ? "You" : userId;
}

/** A line in the conversation after the message `seq` ("Alice added Carol"). */
/** The most system lines kept per chat on this device. */
const KEPT_LINES = 50;

function addSystemLine(chatId, seq, text) {
  const lines = (state.systemLines.get(chatId) ?? []).concat({ seq, text }).slice(-KEPT_LINES);
  state.systemLines.set(chatId, lines);
  // Kept with the cached messages: history holds messages, not who joined or renamed what.
  state.client.cache.put(`lines:${chatId}`, lines).catch(() => undefined);
  if (chatId === state.open) renderMessages();
}

function onChatUpdate(update) {
  const by = who(update.by);
  const target = update.userId === state.me ? "you" : update.userId;
  const text = {
    ADD: `${by} added ${target}`,
    REMOVE: update.by === update.userId ? `${by} left` : `${by} removed ${target}`,
    PROMOTE: `${by} made ${target} an admin`,
    DEMOTE: `${by} made ${target} no longer an admin`,
  }[update.operation];
  if (update.operation === "ADD") {
    const joined = state.joinedAt.get(update.chatId) ?? new Map();
    joined.set(update.userId, update.seq);
    state.joinedAt.set(update.chatId, joined);
    state.client.cache.put(`joined:${update.chatId}`, [...joined]).catch(() => undefined);
  }
  const chat = state.chats.get(update.chatId);
  if (chat) {
    chat.participants = update.participants;
    // Removed: the chat stays readable up to here, and nothing can be written.
    if (update.operation === "REMOVE" && update.userId === state.me) chat.removedAtSeq = update.seq;
    if (update.operation === "ADD" && update.userId === state.me) chat.removedAtSeq = null;
    if (update.chatId === state.open) renderHeader();
  }
  // After the members changed: the line re-renders the conversation, and its ticks count the members now.
  if (text) addSystemLine(update.chatId, update.seq, text);
}

/**
 * Watches the open 1-1 chat's peer: a subscription lasts 5 minutes
 * (docs/protocol.md), so it is renewed every 4 while the chat is open, on
 * every reconnect, and when a request is accepted (refused before).
 */
async function watchPresence() {
  const chat = state.chats.get(state.open);
  const peer = peerOf(chat);
  if (chat?.kind !== "direct" || !peer || chat.request) return;
  const reply = await state.client.subscribePresence([peer]).catch(() => ({ users: [] }));
  for (const p of reply.users ?? []) onPresence(p);
}
setInterval(() => state.client && document.visibilityState === "visible" && watchPresence(), 4 * 60_000);

function onChatInfo(info) {
  const chat = state.chats.get(info.chatId);
  const seq = state.client.chat(info.chatId).lastSeq();
  if (info.name && info.name !== chat?.name) addSystemLine(info.chatId, seq, `${who(info.by)} renamed the group “${info.name}”`);
  else if (info.description != null && info.description !== chat?.description) addSystemLine(info.chatId, seq, `${who(info.by)} changed the group's description`);
}

// ---- small things

const MESSAGES = {
  too_large: "That file is over the size limit.",
  not_member: "You are not a member of this chat.",
  disconnected: "You are offline; it will be sent when you are back.",
  rate_limited: "Slow down a little, then try again.",
  blocked: "You cannot write here: one of you blocked the other.",
};

function toast(error) {
  const box = $("toast");
  const code = error instanceof ChatError ? error.code : "";
  box.textContent = MESSAGES[code] ?? error.message ?? String(error);
  // (Kept for whoever debugs the page: the last error shown.)
  document.body.dataset.errors = `${document.body.dataset.errors ?? ""}${code} ${error.message ?? error}\n`;
  box.dataset.code = code;
  box.hidden = false;
  clearTimeout(box.timer);
  box.timer = setTimeout(() => (box.hidden = true), 5000);
}

function initials(name) {
  return (name || "?").replace(/[_.].*$/, "").slice(0, 2).toUpperCase();
}

/** "Today", "Yesterday", or the date, for the day separators. */
function dayOf(ms) {
  const date = new Date(ms);
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86_400_000);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return date.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}

function shortTime(ms) {
  const date = new Date(ms);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : date.toLocaleDateString();
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// ---- wiring

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("signin-error").hidden = true;
  try {
    await signIn($("signin-user").value.trim(), $("signin-device").value.trim());
  } catch (e) {
    $("signin-error").textContent = e.message;
    $("signin-error").hidden = false;
  }
});
$("composer").addEventListener("submit", send);
$("use-here").addEventListener("click", () => state.client.connect());
$("text").addEventListener("input", typed);
$("text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});
$("file-input").addEventListener("change", attach);
// A file pasted into the composer, or dropped on the conversation, is sent as if picked.
$("text").addEventListener("paste", (event) => {
  const files = [...(event.clipboardData?.files ?? [])];
  if (files.length === 0) return;
  event.preventDefault();
  for (const file of files) sendFile(file);
});
$("conversation").addEventListener("dragover", (event) => {
  if (![...(event.dataTransfer?.types ?? [])].includes("Files") || !state.open) return;
  event.preventDefault();
  $("conversation").classList.add("dropping");
});
$("conversation").addEventListener("dragleave", () => $("conversation").classList.remove("dropping"));
$("conversation").addEventListener("drop", (event) => {
  $("conversation").classList.remove("dropping");
  const files = [...(event.dataTransfer?.files ?? [])];
  if (files.length === 0) return;
  event.preventDefault();
  for (const file of files) sendFile(file);
});
$("new-chat").addEventListener("click", () => $("new-chat-dialog").showModal());
$("devices-button").addEventListener("click", () => showDevices());
$("settings-button").addEventListener("click", () => showSettings().catch(toast));
$("new-chat-form").addEventListener("submit", newChat);
$("members-button").addEventListener("click", showMembers);
$("member-add").addEventListener("click", addMember);
$("group-save").addEventListener("click", saveGroupInfo);
$("mute-button").addEventListener("click", async () => {
  const chat = state.chats.get(state.open);
  if (!chat) return;
  try {
    const reply = await state.client.request("muteChat", { chatId: chat.chatId, muted: !chat.muted });
    chat.muted = reply.muted;
    renderHeader();
    renderList();
  } catch (e) {
    toast(e);
  }
});
$("block-button").addEventListener("click", () => setBlocked(!state.blocked.has(peerOf(state.chats.get(state.open)))));
$("request-block").addEventListener("click", () => setBlocked(true));
// Declining without blocking: the request goes from this user's list (the sender is not told).
$("request-delete").addEventListener("click", () => state.client.deleteChat(state.open).catch(toast));
$("unblock").addEventListener("click", () => setBlocked(false));
$("accept").addEventListener("click", async () => {
  try {
    await state.client.acceptChat(state.open);
    const chat = state.chats.get(state.open);
    if (chat) chat.request = false;
    renderHeader();
    markVisibleRead();
    refreshList();
    watchPresence();
  } catch (e) {
    toast(e);
  }
});
/** A chat deleted (here, or on another of this user's devices): out of the list, closed if open. */
function onChatDeleted(chatId) {
  state.chats.delete(chatId);
  if (state.open === chatId) {
    closeChat();
    // Its item is gone: the keyboard goes to the list's first chat, or to "New chat".
    (document.querySelector("#chat-list .chat-open") ?? $("new-chat")).focus();
  }
  renderList();
  scheduleListRefresh();
}

function closeChat() {
  const was = state.open;
  state.open = null;
  cancelReply();
  $("conversation").dataset.open = "false";
  $("pick-a-chat").hidden = false;
  renderList();
  renderMessages();
  // The keyboard goes back where it came from: the chat's item in the list.
  if (was) document.querySelector(`.chat-item[data-chat-id="${CSS.escape(was)}"] .chat-open`)?.focus();
}
$("back").addEventListener("click", closeChat);
$("reply-cancel").addEventListener("click", () => {
  cancelReply();
  $("text").focus();
});
// Esc, as in a messenger: cancels a reply; in a message's actions, back to
// the composer; else closes the chat. (An open dialog takes Esc itself.)
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || document.querySelector("dialog[open]") || !state.open) return;
  if (state.replyTo || state.editing) cancelReply();
  else if (document.activeElement?.closest("#messages")) $("text").focus();
  else closeChat();
  event.preventDefault();
});
$("messages").addEventListener("scroll", () => {
  const box = $("messages");
  if (box.scrollTop < 60) loadOlder();
  // More than a screen above the newest message: a way back down.
  $("jump-latest").hidden = box.scrollHeight - box.scrollTop - box.clientHeight < box.clientHeight;
});
$("jump-latest").addEventListener("click", () => {
  scrollToEnd();
  $("jump-latest").hidden = true;
  $("text").focus();
});
document.addEventListener("visibilitychange", markVisibleRead);
window.addEventListener("focus", markVisibleRead);

const saved = sessionStorage.getItem("chat.signin");
if (saved) {
  const { user, device, token } = JSON.parse(saved);
  config().then((settings) => start(settings, user, device, token)).catch(() => sessionStorage.removeItem("chat.signin"));
}
