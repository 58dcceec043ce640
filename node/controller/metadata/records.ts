/**
 * The cluster metadata records (Kafka's KIP-631 records): what the controller quorum writes to
 * the metadata log, and what a snapshot is made of. Schemas as data, as in protocol/apis: each
 * record type has an id (Kafka's where Kafka has the record) and a list of versions, each a
 * struct of the protocol's wire primitives.
 *
 * A record on the wire is `int16 type, int16 version, body`. Decoding is hostile-input safe:
 * anything that does not decode to a whole, known record throws CORRUPT_MESSAGE.
 */
import { EddyError } from '../../../protocol/errors.js';
import {
  Reader,
  WireError,
  Writer,
  array,
  bool,
  int32,
  int64,
  int8,
  nullableArray,
  nullableString,
  string,
  struct,
  type Infer,
  type Type,
} from '../../../protocol/wire/schema.js';
import { topicIdType, uuidType } from './uuid.js';

/** Where a broker is reached: peers and clients over WebSocket, sensors over MQTT, HTTP for metrics/health. */
const Endpoints = struct({ ws: string, mqtt: nullableString, http: nullableString });

/** v0 of every record. A new version is appended to its type's list; old ones stay decodable. */
const RegisterBrokerV0 = struct({ brokerId: int32, incarnationId: uuidType, brokerEpoch: int64, endpoints: Endpoints, fenced: bool });
const UnregisterBrokerV0 = struct({ brokerId: int32, brokerEpoch: int64 });
const BrokerEpochV0 = struct({ brokerId: int32, epoch: int64 });
const TopicV0 = struct({ name: string, topicId: topicIdType });
/** resourceType as in Kafka's ConfigResource: 2 = topic (resourceName is the topic name). */
const ConfigV0 = struct({ resourceType: int8, resourceName: string, name: string, value: nullableString });
const PartitionV0 = struct({
  topicId: topicIdType,
  partitionId: int32,
  replicas: array(int32),
  isr: array(int32),
  leader: int32,
  leaderEpoch: int32,
  partitionEpoch: int32,
});
/** leader -2 = unchanged (Kafka's NO_LEADER_CHANGE), -1 = no leader; a null array = unchanged. */
const PartitionChangeWireV0 = struct({
  topicId: topicIdType,
  partitionId: int32,
  leader: int32,
  isr: nullableArray(int32),
  replicas: nullableArray(int32),
});
const RemoveTopicV0 = struct({ topicId: topicIdType });
const ProducerIdsV0 = struct({ brokerId: int32, brokerEpoch: int64, nextProducerId: int64 });
const ClusterIdV0 = struct({ clusterId: string });
const NoOpV0 = struct({});

export const NO_LEADER = -1;
const NO_LEADER_CHANGE = -2;

export interface PartitionChange {
  topicId: string;
  partitionId: number;
  /** Absent: the leader stays. -1: no leader. */
  leader?: number;
  isr?: number[];
  replicas?: number[];
}

const PartitionChangeV0: Type<PartitionChange> = {
  doc: PartitionChangeWireV0.doc,
  write(w, v) {
    PartitionChangeWireV0.write(w, {
      topicId: v.topicId,
      partitionId: v.partitionId,
      leader: v.leader ?? NO_LEADER_CHANGE,
      isr: v.isr ?? null,
      replicas: v.replicas ?? null,
    });
  },
  read(r) {
    const wire = PartitionChangeWireV0.read(r);
    const out: PartitionChange = { topicId: wire.topicId, partitionId: wire.partitionId };
    if (wire.leader !== NO_LEADER_CHANGE) out.leader = wire.leader;
    if (wire.isr !== null) out.isr = wire.isr;
    if (wire.replicas !== null) out.replicas = wire.replicas;
    return out;
  },
};

/** Every record type: its id on the wire and its versions (index = version). */
export const RECORD_TYPES = {
  RegisterBroker: { id: 0, versions: [RegisterBrokerV0] },
  UnregisterBroker: { id: 1, versions: [UnregisterBrokerV0] },
  Topic: { id: 2, versions: [TopicV0] },
  Partition: { id: 3, versions: [PartitionV0] },
  Config: { id: 4, versions: [ConfigV0] },
  PartitionChange: { id: 5, versions: [PartitionChangeV0] },
  FenceBroker: { id: 7, versions: [BrokerEpochV0] },
  UnfenceBroker: { id: 8, versions: [BrokerEpochV0] },
  RemoveTopic: { id: 9, versions: [RemoveTopicV0] },
  ProducerIds: { id: 15, versions: [ProducerIdsV0] },
  NoOp: { id: 20, versions: [NoOpV0] },
  /** Eddy's own: Kafka keeps the cluster id in meta.properties; we keep it in the log. */
  ClusterId: { id: 1000, versions: [ClusterIdV0] },
} as const;

export type RecordTypeName = keyof typeof RECORD_TYPES;

type Body<N extends RecordTypeName> = Infer<(typeof RECORD_TYPES)[N]['versions'][0]>;

export type RegisterBrokerRecord = { type: 'RegisterBroker' } & Body<'RegisterBroker'>;
export type UnregisterBrokerRecord = { type: 'UnregisterBroker' } & Body<'UnregisterBroker'>;
export type FenceBrokerRecord = { type: 'FenceBroker' } & Body<'FenceBroker'>;
export type UnfenceBrokerRecord = { type: 'UnfenceBroker' } & Body<'UnfenceBroker'>;
export type TopicRecord = { type: 'Topic' } & Body<'Topic'>;
export type ConfigRecord = { type: 'Config' } & Body<'Config'>;
export type PartitionRecord = { type: 'Partition' } & Body<'Partition'>;
export type PartitionChangeRecord = { type: 'PartitionChange' } & PartitionChange;
export type RemoveTopicRecord = { type: 'RemoveTopic' } & Body<'RemoveTopic'>;
export type ProducerIdsRecord = { type: 'ProducerIds' } & Body<'ProducerIds'>;
export type ClusterIdRecord = { type: 'ClusterId' } & Body<'ClusterId'>;
export type NoOpRecord = { type: 'NoOp' };
export type BrokerEndpoints = Infer<typeof Endpoints>;

export type MetadataRecord =
  | RegisterBrokerRecord
  | UnregisterBrokerRecord
  | FenceBrokerRecord
  | UnfenceBrokerRecord
  | TopicRecord
  | ConfigRecord
  | PartitionRecord
  | PartitionChangeRecord
  | RemoveTopicRecord
  | ProducerIdsRecord
  | ClusterIdRecord
  | NoOpRecord;

/** ConfigRecord.resourceType for a topic (Kafka's ConfigResource.Type.TOPIC). */
export const TOPIC_RESOURCE = 2;

const BY_ID = new Map<number, RecordTypeName>(
  (Object.keys(RECORD_TYPES) as RecordTypeName[]).map((name) => [RECORD_TYPES[name].id, name]),
);

function latest(name: RecordTypeName): { version: number; schema: Type<unknown> } {
  const versions = RECORD_TYPES[name].versions as readonly Type<unknown>[];
  return { version: versions.length - 1, schema: versions[versions.length - 1]! };
}

/** Writes one record (header and body) at the newest version of its type. */
export function writeRecord(w: Writer, record: MetadataRecord): void {
  const { version, schema } = latest(record.type);
  w.int16(RECORD_TYPES[record.type].id);
  w.int16(version);
  schema.write(w, record);
}

/** The bytes of one record. Throws RangeError for a value the wire types cannot hold (a caller bug). */
export function encodeRecord(record: MetadataRecord): Uint8Array {
  const w = new Writer(64);
  writeRecord(w, record);
  return w.finish();
}

/** Reads one record from `r`. Throws WireError for bytes that are not a known record. */
export function readRecord(r: Reader): MetadataRecord {
  const id = r.int16();
  const version = r.int16();
  const name = BY_ID.get(id);
  if (name === undefined) throw new WireError(`unknown metadata record type ${id}`);
  const schema = (RECORD_TYPES[name].versions as readonly Type<unknown>[])[version];
  if (schema === undefined) throw new WireError(`${name}Record has no version ${version}`);
  const body = schema.read(r) as object;
  return { type: name, ...body } as MetadataRecord;
}

/** Decodes one whole record; any malformed input (truncated, trailing bytes, unknown type) → CORRUPT_MESSAGE. */
export function decodeRecord(bytes: Uint8Array): MetadataRecord {
  try {
    const r = new Reader(bytes);
    const record = readRecord(r);
    if (r.remaining !== 0) throw new WireError(`${r.remaining} unexpected bytes after the record`);
    return record;
  } catch (err) {
    throw asCorrupt(err, 'metadata record');
  }
}

/** Turns a decoding failure into CORRUPT_MESSAGE; anything else is a bug and passes through. */
export function asCorrupt(err: unknown, what: string): unknown {
  if (err instanceof WireError) return new EddyError('CORRUPT_MESSAGE', `${what} does not decode: ${err.message}`, { cause: err });
  return err;
}
