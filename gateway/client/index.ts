/**
 * Eddy's TypeScript client: Producer, Consumer and Admin. Each takes a bootstrap list (`server`) and
 * keeps one WebSocket per broker it talks to: partition leaders, the group coordinator.
 *
 * @example
 * const producer = new Producer({ server: 'ws://gateway:9092' });
 * await producer.send({ topic: 'telemetry', key: 'sensor-7', value: JSON.stringify(reading) });
 *
 * const consumer = new Consumer({ server: 'ws://gateway:9092', autoOffsetReset: 'earliest' });
 * consumer.assign([{ topic: 'telemetry', partition: 0 }]);
 * for await (const record of consumer) handle(record);
 *
 * Server errors are EddyError (errorName, code, retriable); branch on `retriable`, never on text.
 */
export { Producer, type Acks, type BatchMetadata, type ProducerOptions, type ProducerRecord, type ProducerHeaders, type RecordMetadata } from './producer.js';
export { Consumer, type ConsumerOptions, type SeekTarget, type OffsetToCommit } from './consumer.js';
export type { RebalanceListener } from './group-member.js';
export type { Subscription } from './heartbeat-loop.js';
export {
  Admin,
  type AdminOptions,
  type NewTopic,
  type TopicDescription,
  type PartitionDescription,
  type ConfigEntry,
  type ListedOffset,
  type TopicConfigChanges,
  type QuorumDescription,
  type QuorumReplica,
  type RegisteredBroker,
} from './admin.js';
export type {
  GroupState,
  GroupListing,
  GroupDescription,
  GroupMemberDescription,
  GroupPartitionOffsets,
  GroupOffset,
  OffsetReset,
} from './group-types.js';
export type { ConsumedRecord } from './fetched-records.js';
export type { OffsetSpec, OffsetQuery } from './list-offsets.js';
export type { TopicPartition } from './topic-partition.js';
export type { BytesLike } from './bytes.js';
export type { ReconnectOptions } from './backoff.js';
export type { ServerList } from './bootstrap.js';
export { murmur2, partitionForKey, type Partitioner } from './partitioner.js';
export { Connection, type ConnectionOptions, type RequestOptions } from './connection.js';
export type { SocketFactory, ClientSocket, SocketHandlers } from './socket.js';
export { ClientClosedError } from './client-errors.js';
export { EddyError, isEddyError, ERRORS, type ErrorName } from '../../protocol/errors.js';
export type { RecordHeader } from '../../protocol/record-batch.js';
