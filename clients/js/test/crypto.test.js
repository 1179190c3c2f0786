// The client's cryptography, vodozemac compiled to wasm (clients/crypto,
// scripts/crypto-wasm), as docs/e2ee.md uses it: Olm between two devices,
// a Megolm session shared over it, envelopes that only the holders of the
// session key read, and pickles that survive a reload (node --test).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Account, GroupSession, InboundGroupSession, Session, initSync } from "../crypto/vodozemac.js";

initSync({ module: readFileSync(new URL("../crypto/vodozemac_bg.wasm", import.meta.url)) });

/** Bob's device as the server would hand out one of its keys (`claimKeys`). */
function claimOne(account) {
  account.generateOneTimeKeys(2);
  const [claimed] = JSON.parse(account.oneTimeKeys());
  account.markKeysAsPublished();
  return claimed;
}

test("an Olm session carries a Megolm session key; only its holders read the envelope", () => {
  const alice = new Account();
  const bob = new Account();
  const claimed = claimOne(bob);
  assert.match(claimed.key, /^[A-Za-z0-9+/]{43}$/, "a Curve25519 key in unpadded base64, as uploadKeys takes it");

  const outbound = alice.createOutboundSession(bob.curve25519Key(), claimed.key);
  const group = new GroupSession();
  const roomKey = JSON.stringify({ chatId: "g-1", sessionId: group.sessionId(), sessionKey: group.sessionKey() });
  const toDevice = outbound.encrypt(roomKey);
  assert.equal(toDevice.olmType, 0, "the first message of a session is a pre-key message");

  const { session, plaintext } = bob.createInboundSession(alice.curve25519Key(), toDevice.ciphertext);
  assert.equal(plaintext, roomKey);
  assert.equal(session.sessionId(), outbound.sessionId());
  const key = JSON.parse(plaintext);
  const inbound = new InboundGroupSession(key.sessionKey);
  assert.equal(inbound.sessionId(), group.sessionId());

  const envelope = `megolm.v1:${group.sessionId()}:${group.encrypt(JSON.stringify({ text: "hi bob" }))}`;
  const [, sessionId, ciphertext] = envelope.split(":");
  assert.equal(sessionId, group.sessionId());
  const opened = inbound.decrypt(ciphertext);
  assert.deepEqual(JSON.parse(opened.plaintext), { text: "hi bob" });
  assert.equal(opened.messageIndex, 0);
  assert.doesNotMatch(envelope, /hi bob/);

  // Someone with another session's key reads nothing, and says so.
  const stranger = new InboundGroupSession(new GroupSession().sessionKey());
  assert.throws(() => stranger.decrypt(ciphertext));

  // Bob answers in the same Olm session: a normal message now.
  const reply = session.encrypt("got it");
  assert.equal(reply.olmType, 1);
  assert.equal(outbound.decrypt(reply.olmType, reply.ciphertext), "got it");
  // A one-time key starts one session only.
  assert.throws(() => bob.createInboundSession(alice.curve25519Key(), toDevice.ciphertext));
  assert.ok(session.matchesPreKey(toDevice.ciphertext), "a repeated pre-key message is told to be this session's");
});

test("a member given the key later reads from there on, not before", () => {
  const group = new GroupSession();
  const early = group.encrypt("before you joined");
  const joined = new InboundGroupSession(group.sessionKey());
  const later = group.encrypt("welcome");
  assert.equal(joined.decrypt(later).plaintext, "welcome");
  assert.throws(() => joined.decrypt(early), "Megolm cannot be ratcheted back");
});

test("accounts and sessions survive a reload as pickles under the app's key, and no other", () => {
  const key = new Uint8Array(32).fill(7);
  const alice = new Account();
  alice.generateOneTimeKeys(3);
  const again = Account.fromPickle(alice.pickle(key), key);
  assert.equal(again.curve25519Key(), alice.curve25519Key());
  assert.equal(again.oneTimeKeys(), alice.oneTimeKeys());
  assert.throws(() => Account.fromPickle(alice.pickle(key), new Uint8Array(32)), "another key opens nothing");
  assert.throws(() => alice.pickle(new Uint8Array(16)), /32 bytes/);

  const group = new GroupSession();
  const inbound = new InboundGroupSession(group.sessionKey());
  const restored = GroupSession.fromPickle(group.pickle(key), key);
  const reloaded = InboundGroupSession.fromPickle(inbound.pickle(key), key);
  assert.equal(reloaded.decrypt(restored.encrypt("still here")).plaintext, "still here");

  const bob = new Account();
  const outbound = alice.createOutboundSession(bob.curve25519Key(), claimOne(bob).key);
  const kept = Session.fromPickle(outbound.pickle(key), key);
  assert.equal(kept.sessionId(), outbound.sessionId());
});
