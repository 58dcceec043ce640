/**
 * The active controller's broker handlers on a real one-voter node, called as the peer server
 * would (the peer's authenticated id beside the request): registration, unfencing by a caught-up
 * heartbeat, the errors that make a broker register again, controlled shutdown, and session
 * expiry on the node's injected clock.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RunningNode } from '../../app/start-node.js';
import { ERRORS } from '../../protocol/errors.js';
import { until } from '../helpers/peers.js';
import { testNode } from '../helpers/node.js';
import { tempDir } from '../helpers/tmp.js';

const INCARNATIONS = new Map<number, string>();
const incarnation = (id: number) => INCARNATIONS.get(id) ?? (INCARNATIONS.set(id, randomUUID()), INCARNATIONS.get(id)!);
const registration = (brokerId: number, incarnationId = incarnation(brokerId)) => ({
  brokerId, clusterId: '', incarnationId, listeners: [{ name: 'client', host: '127.0.0.1', port: 9400 + brokerId }], features: [], rack: null, previousBrokerEpoch: -1,
});
const hb = (brokerId: number, brokerEpoch: number, currentMetadataOffset: number, wantFence = false) => ({ brokerId, brokerEpoch, currentMetadataOffset, wantFence, wantShutDown: false });

async function registered(node: RunningNode, id: number): Promise<number> {
  const r = await node.brokerController.register(registration(id), id);
  expect(r).toMatchObject({ errorCode: 0, errorMessage: null });
  return r.brokerEpoch;
}

describe('the active controller\'s broker handlers', () => {
  it('registers a broker fenced, unfences it once caught up with its registration, and fences it when it asks', async () => {
    const node = await testNode(tempDir(), 0, { nodeId: 1 });
    const epoch = await registered(node, 5);
    const b = node.quorum.image.brokers.get(5)!;
    expect(b).toMatchObject({ brokerEpoch: epoch, fenced: true, incarnationId: incarnation(5), endpoints: { ws: 'ws://127.0.0.1:9405' } });
    // Not yet at its own registration record: stays fenced.
    expect(await node.brokerController.heartbeat(hb(5, epoch, epoch - 1), 5)).toEqual({ errorCode: 0, errorMessage: null, isCaughtUp: false, isFenced: true, shouldShutDown: false });
    expect(await node.brokerController.heartbeat(hb(5, epoch, epoch), 5)).toMatchObject({ errorCode: 0, isCaughtUp: true, isFenced: false });
    expect(node.quorum.image.brokers.get(5)!.fenced).toBe(false);
    // Alive under another incarnation: a second process with the id is refused.
    expect((await node.brokerController.register(registration(5, randomUUID()), 5)).errorCode).toBe(ERRORS.DUPLICATE_BROKER_REGISTRATION.code);
    expect(await node.brokerController.heartbeat(hb(5, epoch, epoch, true), 5)).toMatchObject({ errorCode: 0, isFenced: true });
    expect(node.quorum.image.brokers.get(5)!.fenced).toBe(true);
  });

  it('answers the errors after which a broker registers again, and refuses a peer speaking for another id', async () => {
    const node = await testNode(tempDir(), 0, { nodeId: 1 });
    const epoch = await registered(node, 6);
    expect((await node.brokerController.heartbeat(hb(6, epoch + 100, epoch), 6)).errorCode).toBe(ERRORS.STALE_BROKER_EPOCH.code);
    expect((await node.brokerController.heartbeat(hb(7, 3, 3), 7)).errorCode).toBe(ERRORS.BROKER_ID_NOT_REGISTERED.code);
    expect((await node.brokerController.heartbeat(hb(6, epoch, epoch), 2)).errorCode).toBe(ERRORS.INVALID_REQUEST.code);
    expect((await node.brokerController.register(registration(8), 2)).errorCode).toBe(ERRORS.INVALID_REQUEST.code);
    expect(await node.brokerController.register(registration(8, 'not-a-uuid'), 8)).toMatchObject({ errorCode: ERRORS.INVALID_REQUEST.code, errorMessage: expect.stringMatching(/not a UUID/) });
  });

  it('fences a broker whose session expired, on the node\'s clock, and not the node itself', async () => {
    let now = 1_000_000;
    const node = await testNode(tempDir(), 0, { nodeId: 1, clock: () => now, brokerSessionTimeoutMs: 1_000 });
    const epoch = await registered(node, 5);
    await node.brokerController.heartbeat(hb(5, epoch, epoch), 5);
    expect(node.quorum.image.brokers.get(5)!.fenced).toBe(false);
    now += 900;
    await new Promise((r) => setTimeout(r, 400)); // a session check or more ran: still inside the session
    expect(node.quorum.image.brokers.get(5)!.fenced).toBe(false);
    now += 200;
    await until('broker 5 fenced', () => node.quorum.image.brokers.get(5)!.fenced, 2_000);
    expect(node.quorum.image.brokers.get(1)!.fenced).toBe(false);
    // A heartbeat after it, caught up: unfenced again.
    expect(await node.brokerController.heartbeat(hb(5, epoch, node.quorum.image.lastOffset), 5)).toMatchObject({ errorCode: 0, isFenced: false });
  });
});
