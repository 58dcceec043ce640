import { describe, expect, it } from 'vitest';
import {
  decodePeerAuthMessage,
  encodePeerAuthMessage,
  PeerAuthAcceptor,
  PeerAuthInitiator,
  type PeerAuthMessage,
  type PeerAuthStep,
} from '../../node/cluster/peer-auth.js';

const SECRET = Buffer.from('a shared secret of the cluster, 44 bytes long');
const CLUSTER = 'MkU3OEVBNTcwNTJENDM2Qk';
const OTHER_CLUSTER = 'AAAAAAAAAAAAAAAAAAAAAA';

function initiator(over: Partial<ConstructorParameters<typeof PeerAuthInitiator>[0]> = {}) {
  return new PeerAuthInitiator({ secret: SECRET, clusterId: CLUSTER, nodeId: 1, peerNodeId: 2, ...over });
}
function acceptor(over: Partial<ConstructorParameters<typeof PeerAuthAcceptor>[0]> = {}) {
  return new PeerAuthAcceptor({ secret: SECRET, clusterId: CLUSTER, nodeId: 2, ...over });
}

function sent(step: PeerAuthStep): PeerAuthMessage {
  if (step.kind !== 'send') throw new Error(`expected a message to send, got ${JSON.stringify(step)}`);
  return step.message;
}

/** Carries each message through its text form, as a transport would. */
const wire = (m: PeerAuthMessage): PeerAuthMessage => decodePeerAuthMessage(encodePeerAuthMessage(m))!;

/** Runs a whole handshake; `tamper` may change any message in flight. */
function run(a: PeerAuthInitiator, b: PeerAuthAcceptor, tamper: (m: PeerAuthMessage) => PeerAuthMessage = (m) => m) {
  expect(b.start()).toEqual({ kind: 'wait' });
  const hello = tamper(wire(sent(a.start())));
  const challengeStep = b.receive(hello);
  if (challengeStep.kind !== 'send') return { a: a.outcome, b: challengeStep, at: 'hello' };
  const proofStep = a.receive(tamper(wire(challengeStep.message)));
  if (proofStep.kind !== 'send') {
    if (proofStep.kind !== 'wait' && proofStep.message) b.receive(wire(proofStep.message));
    return { a: proofStep, b: b.outcome, at: 'challenge' };
  }
  const end = b.receive(tamper(wire(proofStep.message)));
  if (end.kind !== 'wait' && end.kind !== 'send' && end.message) a.receive(wire(end.message));
  return { a: a.outcome, b: end, at: 'proof' };
}

describe('peer authentication', () => {
  it('authenticates both sides with the same secret, each learning the other\'s node id', () => {
    const a = initiator();
    const b = acceptor();
    const r = run(a, b);
    expect(r.b).toMatchObject({ kind: 'ok', peerNodeId: 1 });
    expect(r.a).toMatchObject({ kind: 'ok', peerNodeId: 2 });
    // the other way round: node 2 dials node 1
    const r2 = run(initiator({ nodeId: 2, peerNodeId: 1 }), acceptor({ nodeId: 1 }));
    expect(r2.a).toMatchObject({ kind: 'ok', peerNodeId: 1 });
    expect(r2.b).toMatchObject({ kind: 'ok', peerNodeId: 2 });
  });

  it('never puts the secret on the wire', () => {
    const a = initiator();
    const b = acceptor();
    const frames: string[] = [];
    const hello = encodePeerAuthMessage(sent(a.start()));
    frames.push(hello);
    const challenge = encodePeerAuthMessage(sent(b.receive(decodePeerAuthMessage(hello))));
    frames.push(challenge);
    const proof = encodePeerAuthMessage(sent(a.receive(decodePeerAuthMessage(challenge))));
    frames.push(proof);
    for (const f of frames) {
      expect(f).not.toContain(SECRET.toString());
      expect(f).not.toContain(SECRET.toString('base64'));
      expect(f).not.toContain(SECRET.toString('hex'));
    }
  });

  it('refuses a wrong secret on both sides', () => {
    // The initiator has the wrong secret: it cannot verify the acceptor's proof.
    const r = run(initiator({ secret: Buffer.from('not the secret of this cluster!') }), acceptor());
    expect(r.a).toMatchObject({ kind: 'refused', code: 'BAD_PROOF' });
    expect(r.b).toMatchObject({ kind: 'refused', code: 'REFUSED_BY_PEER', peerCode: 'BAD_PROOF' });
    // An initiator that skips checking (a forger) still cannot make the acceptor accept it.
    const b = acceptor();
    const forger = initiator({ secret: Buffer.from('not the secret of this cluster!') });
    sent(b.receive(sent(forger.start())));
    expect(b.receive({ type: 'proof', proof: Buffer.alloc(32, 7) })).toMatchObject({ kind: 'refused', code: 'BAD_PROOF', message: { type: 'refused', code: 'BAD_PROOF' } });
    // And an acceptor with the wrong secret is refused by the initiator.
    const r3 = run(initiator(), acceptor({ secret: Buffer.from('not the secret of this cluster!') }));
    expect(r3.a).toMatchObject({ kind: 'refused', code: 'BAD_PROOF' });
  });

  it('refuses a proof reflected back to its maker', () => {
    // An attacker without the secret dials node 2 and, to answer its challenge, dials node 2
    // again (as the same claimed node 1) with node 2's own nonce, hoping to reuse its proof.
    const victim1 = acceptor();
    const hello1 = sent(initiator().start());
    const challenge1 = sent(victim1.receive(hello1)) as Extract<PeerAuthMessage, { type: 'challenge' }>;
    // The acceptor's own proof sent back as the initiator's proof:
    expect(victim1.receive({ type: 'proof', proof: challenge1.proof })).toMatchObject({ kind: 'refused', code: 'BAD_PROOF' });

    const victim2 = acceptor();
    const hello2 = sent(initiator().start()) as Extract<PeerAuthMessage, { type: 'hello' }>;
    const c2 = sent(victim2.receive(hello2)) as Extract<PeerAuthMessage, { type: 'challenge' }>;
    const victim3 = acceptor();
    const c3 = sent(victim3.receive({ ...hello2, nonce: c2.nonce })) as Extract<PeerAuthMessage, { type: 'challenge' }>;
    expect(victim2.receive({ type: 'proof', proof: c3.proof })).toMatchObject({ kind: 'refused', code: 'BAD_PROOF' });

    // An initiator's hello echoed back to it as a challenge (its own nonce) is refused too.
    const a = initiator();
    const h = sent(a.start()) as Extract<PeerAuthMessage, { type: 'hello' }>;
    expect(a.receive({ type: 'challenge', clusterId: CLUSTER, nodeId: 2, nonce: h.nonce, proof: Buffer.alloc(32) })).toMatchObject({ kind: 'refused', code: 'BAD_PROOF' });
  });

  it('refuses messages replayed from an older session', () => {
    const a = initiator();
    const b = acceptor();
    const hello = sent(a.start());
    const challenge = sent(b.receive(hello));
    const proof = sent(a.receive(challenge));
    expect(b.receive(proof)).toMatchObject({ kind: 'ok' });
    // Replaying the initiator's side to a new acceptor: its fresh nonce makes the old proof useless.
    const b2 = acceptor();
    expect(sent(b2.receive(hello)).type).toBe('challenge');
    expect(b2.receive(proof)).toMatchObject({ kind: 'refused', code: 'BAD_PROOF' });
    // Replaying the acceptor's side to a new initiator: its fresh nonce likewise.
    const a2 = initiator();
    a2.start();
    expect(a2.receive(challenge)).toMatchObject({ kind: 'refused', code: 'BAD_PROOF' });
    // And a finished handshake takes nothing more.
    expect(b.receive(proof)).toMatchObject({ kind: 'refused', code: 'UNEXPECTED_MESSAGE' });
  });

  it('refuses a peer of another cluster, whichever side it is on', () => {
    expect(run(initiator({ clusterId: OTHER_CLUSTER }), acceptor()).b).toMatchObject({ kind: 'refused', code: 'CLUSTER_ID_MISMATCH' });
    const a = initiator();
    const b = acceptor({ clusterId: OTHER_CLUSTER });
    const hello = sent(a.start()) as Extract<PeerAuthMessage, { type: 'hello' }>;
    const c = sent(b.receive({ ...hello, clusterId: OTHER_CLUSTER }));
    expect(a.receive(c)).toMatchObject({ kind: 'refused', code: 'CLUSTER_ID_MISMATCH' });
  });

  it('refuses every field tampered with in flight', () => {
    const flip = (buf: Buffer) => {
      const b = Buffer.from(buf);
      b[0]! ^= 1;
      return b;
    };
    const cases: [string, (m: PeerAuthMessage) => PeerAuthMessage, string][] = [
      ['hello nodeId', (m) => (m.type === 'hello' ? { ...m, nodeId: 3 } : m), 'BAD_PROOF'],
      ['hello peerNodeId', (m) => (m.type === 'hello' ? { ...m, peerNodeId: 3 } : m), 'UNEXPECTED_NODE_ID'],
      ['hello nonce', (m) => (m.type === 'hello' ? { ...m, nonce: flip(m.nonce) } : m), 'BAD_PROOF'],
      ['challenge nonce', (m) => (m.type === 'challenge' ? { ...m, nonce: flip(m.nonce) } : m), 'BAD_PROOF'],
      ['challenge proof', (m) => (m.type === 'challenge' ? { ...m, proof: flip(m.proof) } : m), 'BAD_PROOF'],
      ['challenge nodeId', (m) => (m.type === 'challenge' ? { ...m, nodeId: 3 } : m), 'UNEXPECTED_NODE_ID'],
      ['proof', (m) => (m.type === 'proof' ? { ...m, proof: flip(m.proof) } : m), 'BAD_PROOF'],
    ];
    for (const [what, tamper, code] of cases) {
      const r = run(initiator(), acceptor(), tamper);
      const refusedBy = [r.a, r.b].find((s) => s?.kind === 'refused' && s.code !== 'REFUSED_BY_PEER');
      expect(refusedBy, what).toMatchObject({ kind: 'refused', code });
      expect(r.a?.kind === 'ok' || r.b?.kind === 'ok', what).toBe(false);
    }
  });

  it('refuses malformed and out-of-order messages, and ids the acceptor does not know', () => {
    const b = acceptor();
    expect(b.receive({ type: 'hello', clusterId: CLUSTER, nodeId: 1, peerNodeId: 2, nonce: Buffer.alloc(8) })).toMatchObject({ kind: 'refused', code: 'MALFORMED_MESSAGE' });
    expect(acceptor().receive({ type: 'proof', proof: Buffer.alloc(32) })).toMatchObject({ kind: 'refused', code: 'UNEXPECTED_MESSAGE' });
    expect(acceptor().receive('garbage')).toMatchObject({ kind: 'refused', code: 'MALFORMED_MESSAGE' });
    expect(decodePeerAuthMessage('{not json')).toBeNull();
    expect(decodePeerAuthMessage('{"type":"hello","clusterId":"x","nodeId":-1}')).toBeNull();
    expect(run(initiator({ nodeId: 2 }), acceptor()).b).toMatchObject({ kind: 'refused', code: 'SAME_NODE_ID' });
    expect(run(initiator({ nodeId: 9 }), acceptor({ acceptNodeId: (id) => id === 1 })).b).toMatchObject({ kind: 'refused', code: 'UNKNOWN_NODE_ID' });
  });
});
