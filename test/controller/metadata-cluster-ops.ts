/**
 * Random cluster histories for the metadata property tests: operations run through the
 * controller's decision functions against the current image, so every record sequence they
 * give is one a controller could have written. Operations the image refuses are skipped.
 */
import fc from 'fast-check';
import { isEddyError } from '../../protocol/errors.js';
import { applyRecords } from '../../node/controller/metadata/apply.js';
import { allocateProducerIds, fenceBroker, heartbeat, registerBroker, unregisterBroker } from '../../node/controller/metadata/broker-decisions.js';
import { EMPTY_IMAGE, type MetadataImage } from '../../node/controller/metadata/image.js';
import type { MetadataRecord } from '../../node/controller/metadata/records.js';
import { alterConfigs, createPartitions, createTopic, deleteTopic } from '../../node/controller/metadata/topic-decisions.js';
import { topicIdFromBytes } from '../../node/controller/metadata/uuid.js';

export type Op =
  | { op: 'register'; broker: number; incarnation: number }
  | { op: 'heartbeat'; broker: number; wantFence: boolean }
  | { op: 'fence'; broker: number }
  | { op: 'unregister'; broker: number }
  | { op: 'create'; topic: number; partitions: number; rf: number; retention: boolean }
  | { op: 'delete'; topic: number }
  | { op: 'grow'; topic: number; by: number }
  | { op: 'config'; topic: number; value: number | null }
  | { op: 'pids'; broker: number }
  | { op: 'noop' }
  | { op: 'cluster' };

const broker = fc.integer({ min: 0, max: 4 });
const topic = fc.integer({ min: 0, max: 3 });

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('register' as const), broker, incarnation: fc.integer({ min: 0, max: 2 }) }),
  { arbitrary: fc.record({ op: fc.constant('heartbeat' as const), broker, wantFence: fc.boolean() }), weight: 3 },
  fc.record({ op: fc.constant('fence' as const), broker }),
  fc.record({ op: fc.constant('unregister' as const), broker }),
  {
    arbitrary: fc.record({ op: fc.constant('create' as const), topic, partitions: fc.integer({ min: 1, max: 6 }), rf: fc.integer({ min: 1, max: 3 }), retention: fc.boolean() }),
    weight: 3,
  },
  fc.record({ op: fc.constant('delete' as const), topic }),
  fc.record({ op: fc.constant('grow' as const), topic, by: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('config' as const), topic, value: fc.option(fc.integer({ min: 1, max: 99 }), { nil: null }) }),
  fc.record({ op: fc.constant('pids' as const), broker }),
  fc.constant({ op: 'noop' as const }),
  fc.constant({ op: 'cluster' as const }),
);

/** Three live brokers first, so most histories have topics to change and brokers to fence. */
const SETUP: Op[] = [
  { op: 'cluster' },
  ...[0, 1, 2].map((b): Op => ({ op: 'register', broker: b, incarnation: 0 })),
  ...[0, 1, 2].map((b): Op => ({ op: 'heartbeat', broker: b, wantFence: false })),
];

export const historyArb: fc.Arbitrary<Op[]> = fc.array(opArb, { minLength: 10, maxLength: 80 }).map((ops) => [...SETUP, ...ops]);

const incarnation = (b: number, i: number) => `00000000-0000-4000-8000-${String(b * 10 + i).padStart(12, '0')}`;

/** The records `op` writes on `image`, or [] when the controller refuses it. */
export function recordsFor(image: MetadataImage, op: Op, seq: number): MetadataRecord[] {
  try {
    switch (op.op) {
      case 'register':
        return registerBroker(image, { brokerId: op.broker, incarnationId: incarnation(op.broker, op.incarnation), endpoints: { ws: `ws://b${op.broker}:9092`, mqtt: null, http: `http://b${op.broker}:8080` } });
      case 'heartbeat': {
        const b = image.brokers.get(op.broker);
        return b ? heartbeat(image, { brokerId: op.broker, brokerEpoch: b.brokerEpoch, caughtUp: true, wantFence: op.wantFence }) : [];
      }
      case 'fence':
        return fenceBroker(image, op.broker);
      case 'unregister':
        return unregisterBroker(image, op.broker);
      case 'create':
        return createTopic(
          image,
          { name: `t${op.topic}`, partitions: op.partitions, replicationFactor: op.rf, configs: op.retention ? { 'retention.ms': '1000' } : {} },
          topicIdFromBytes(Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? 1 : i <= 4 ? (seq >> (8 * (i - 1))) & 0xff : 0))),
        );
      case 'delete':
        return deleteTopic(image, `t${op.topic}`);
      case 'grow': {
        const t = image.topicIdsByName.get(`t${op.topic}`);
        const n = t ? image.topicsById.get(t)!.partitions.size : 0;
        return createPartitions(image, `t${op.topic}`, n + op.by);
      }
      case 'config':
        return alterConfigs(image, `t${op.topic}`, op.value === null ? { delete: ['retention.ms'] } : { set: { 'retention.ms': String(op.value) } });
      case 'pids':
        return allocateProducerIds(image, op.broker, 1000).records;
      case 'noop':
        return [{ type: 'NoOp' }];
      case 'cluster':
        return [{ type: 'ClusterId', clusterId: 'cluster-A' }];
    }
  } catch (err) {
    if (isEddyError(err)) return [];
    throw err;
  }
}

/** Runs the ops in order; returns every record written (in log order) and the final image. */
export function runOps(ops: readonly Op[]): { records: MetadataRecord[]; image: MetadataImage } {
  let image = EMPTY_IMAGE;
  const records: MetadataRecord[] = [];
  ops.forEach((op, seq) => {
    const batch = recordsFor(image, op, seq);
    image = applyRecords(image, batch, 1 + Math.floor(seq / 5));
    records.push(...batch);
  });
  return { records, image };
}
