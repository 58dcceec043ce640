/** The controller's broker sessions and the broker's next request: pure, on an injected clock. */
import { describe, expect, it } from 'vitest';
import { nextBrokerRequest, registrationGone } from '../../node/controller/broker-heartbeat-plan.js';
import { BrokerSessions, isCaughtUp } from '../../node/controller/broker-sessions.js';
import { applyRecords, EMPTY_IMAGE, registerBroker, unfenceBroker, type MetadataImage } from '../../node/controller/metadata/index.js';

const ws = (id: number) => ({ ws: `ws://127.0.0.1:${9400 + id}`, mqtt: null, http: null });

/** Brokers registered (at offsets 0.., their epochs) and unfenced, the image's lastOffset after them. */
function imageWith(ids: number[], fenced: number[] = []): MetadataImage {
  let image = EMPTY_IMAGE;
  let offset = 0;
  for (const id of ids) {
    const records = registerBroker(image, { brokerId: id, incarnationId: `inc-${id}`, endpoints: ws(id) }, offset);
    image = applyRecords(image, records);
    offset += records.length;
  }
  for (const id of ids.filter((i) => !fenced.includes(i))) image = applyRecords(image, unfenceBroker(image, id));
  return { ...image, lastOffset: Math.max(image.lastOffset, offset + 10) };
}

describe('BrokerSessions', () => {
  it('expires an unfenced broker silent for more than the session timeout, not one heard from', () => {
    const image = imageWith([1, 2, 3]);
    const s = new BrokerSessions(1000);
    s.takeOver(image, 0);
    s.touch(2, 900);
    expect(s.expired(image, 1000)).toEqual([]); // exactly the timeout: not yet
    expect(s.expired(image, 1001)).toEqual([1, 3]);
    expect(s.silentForMs(2, 1001)).toBe(101);
  });

  it('gives every broker a full session when this node takes over as controller', () => {
    const image = imageWith([1, 2]);
    const s = new BrokerSessions(1000);
    s.touch(1, 0);
    s.takeOver(image, 5000); // the old controller's view is forgotten
    expect(s.expired(image, 5999)).toEqual([]);
    expect(s.expired(image, 6001)).toEqual([1, 2]);
  });

  it('does not expire fenced or unregistered brokers', () => {
    const image = imageWith([1, 2], [2]);
    const s = new BrokerSessions(10);
    s.takeOver(image, 0);
    s.touch(7, 0); // not registered
    expect(s.expired(image, 100)).toEqual([1]);
  });

  it('refuses a session timeout that is not positive', () => {
    expect(() => new BrokerSessions(0)).toThrow(RangeError);
  });

  it('counts a broker caught up once it applied its own registration record (Kafka)', () => {
    expect(isCaughtUp(5, 4)).toBe(false);
    expect(isCaughtUp(5, 5)).toBe(true);
    expect(isCaughtUp(5, 9)).toBe(true);
  });
});

describe('nextBrokerRequest', () => {
  const base = { nodeId: 2, incarnationId: 'inc-2', wantFence: false };

  it('waits without a controller, leaves it to itself on the controller, else registers then heartbeats', () => {
    const image = imageWith([1, 2]);
    expect(nextBrokerRequest({ ...base, leaderId: null, brokerEpoch: null, image }).kind).toBe('wait');
    expect(nextBrokerRequest({ ...base, leaderId: 2, brokerEpoch: null, image })).toEqual({ kind: 'self' });
    expect(nextBrokerRequest({ ...base, leaderId: 1, brokerEpoch: null, image })).toEqual({ kind: 'register', to: 1 });
    const epoch = image.brokers.get(2)!.brokerEpoch;
    expect(nextBrokerRequest({ ...base, leaderId: 3, brokerEpoch: epoch, image, wantFence: true })).toEqual({
      kind: 'heartbeat', to: 3, brokerEpoch: epoch, currentMetadataOffset: image.lastOffset, wantFence: true,
    });
  });

  it('registers again once the image, past the registration, no longer holds it', () => {
    const image = imageWith([1, 2]);
    const epoch = image.brokers.get(2)!.brokerEpoch;
    expect(registrationGone(image, 2, 'inc-2', epoch)).toBe(false);
    expect(registrationGone(image, 2, 'inc-2', epoch + 1)).toBe(true); // another epoch in the image
    expect(registrationGone(image, 2, 'other', epoch)).toBe(true); // another incarnation
    expect(registrationGone(image, 3, 'inc-3', 0)).toBe(true); // none
    // Before the image reaches the registration's offset nothing can be told.
    expect(registrationGone(image, 2, 'inc-2', image.lastOffset + 1)).toBe(false);
    expect(nextBrokerRequest({ ...base, incarnationId: 'other', leaderId: 1, brokerEpoch: epoch, image })).toEqual({ kind: 'register', to: 1 });
  });
});
