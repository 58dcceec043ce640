/** fast-check arbitraries for cluster metadata records (shared by the metadata tests). */
import fc from 'fast-check';
import type { MetadataRecord, RecordTypeName } from '../../node/controller/metadata/records.js';
import { topicIdFromBytes } from '../../node/controller/metadata/uuid.js';

export const topicIdArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(topicIdFromBytes);
const brokerId = fc.integer({ min: -1, max: 2 ** 31 - 1 });
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const int64 = fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -1, max: 1000 }));
const str = fc.string({ maxLength: 40 });
const ids = fc.array(fc.integer({ min: -1, max: 2 ** 31 - 1 }), { maxLength: 6 });

export const recordArbs: { [N in RecordTypeName]: fc.Arbitrary<Extract<MetadataRecord, { type: N }>> } = {
  RegisterBroker: fc.record({
    type: fc.constant('RegisterBroker' as const),
    brokerId,
    incarnationId: fc.uuid(),
    brokerEpoch: int64,
    endpoints: fc.record({ ws: str, mqtt: fc.option(str, { nil: null }), http: fc.option(str, { nil: null }) }),
    fenced: fc.boolean(),
  }),
  UnregisterBroker: fc.record({ type: fc.constant('UnregisterBroker' as const), brokerId, brokerEpoch: int64 }),
  FenceBroker: fc.record({ type: fc.constant('FenceBroker' as const), brokerId, epoch: int64 }),
  UnfenceBroker: fc.record({ type: fc.constant('UnfenceBroker' as const), brokerId, epoch: int64 }),
  Topic: fc.record({ type: fc.constant('Topic' as const), name: str, topicId: topicIdArb }),
  Config: fc.record({
    type: fc.constant('Config' as const),
    resourceType: fc.integer({ min: -128, max: 127 }),
    resourceName: str,
    name: str,
    value: fc.option(str, { nil: null }),
  }),
  Partition: fc.record({
    type: fc.constant('Partition' as const),
    topicId: topicIdArb,
    partitionId: int32,
    replicas: ids,
    isr: ids,
    leader: brokerId,
    leaderEpoch: int32,
    partitionEpoch: int32,
  }),
  PartitionChange: fc.record(
    {
      type: fc.constant('PartitionChange' as const),
      topicId: topicIdArb,
      partitionId: int32,
      leader: brokerId,
      isr: ids,
      replicas: ids,
    },
    { requiredKeys: ['type', 'topicId', 'partitionId'] },
  ),
  RemoveTopic: fc.record({ type: fc.constant('RemoveTopic' as const), topicId: topicIdArb }),
  ProducerIds: fc.record({ type: fc.constant('ProducerIds' as const), brokerId, brokerEpoch: int64, nextProducerId: int64 }),
  NoOp: fc.constant({ type: 'NoOp' as const }),
  ClusterId: fc.record({ type: fc.constant('ClusterId' as const), clusterId: str }),
};

export const anyRecordArb: fc.Arbitrary<MetadataRecord> = fc.oneof(...Object.values(recordArbs));
