/**
 * Metadata snapshots (KIP-630). As in Kafka, a snapshot is a sequence of ordinary metadata
 * records that rebuild the image when replayed into an empty one, so there is one codec and one
 * replay path, not a second image format to keep in step. The records are written in a fixed
 * order (cluster id, brokers by id, topics by name with their configs and partitions, producer
 * ids), so equal images give equal bytes.
 *
 * Layout: `int32 magic "EDMS", int16 version 0, int64 lastOffset, int32 lastEpoch,
 * int32 record count, records, int32 crc32c` where the CRC covers every byte before it.
 */
import { crc32c } from '../../../protocol/crc32c.js';
import { Reader, WireError, Writer } from '../../../protocol/wire/schema.js';
import { replay } from './apply.js';
import { EMPTY_IMAGE, sortedPartitions, sortedTopics, type MetadataImage } from './image.js';
import { asCorrupt, readRecord, TOPIC_RESOURCE, writeRecord, type MetadataRecord } from './records.js';

const MAGIC = 0x45444d53; // "EDMS"
const VERSION = 0;

/** The records that rebuild `image` from empty, in their canonical order. */
export function snapshotRecords(image: MetadataImage): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  if (image.clusterId !== null) out.push({ type: 'ClusterId', clusterId: image.clusterId });
  for (const b of [...image.brokers.values()].sort((x, y) => x.brokerId - y.brokerId)) {
    out.push({ type: 'RegisterBroker', brokerId: b.brokerId, incarnationId: b.incarnationId, brokerEpoch: b.brokerEpoch, endpoints: { ...b.endpoints }, fenced: b.fenced });
  }
  for (const t of sortedTopics(image)) {
    out.push({ type: 'Topic', name: t.name, topicId: t.topicId });
    for (const name of Object.keys(t.configs).sort()) {
      out.push({ type: 'Config', resourceType: TOPIC_RESOURCE, resourceName: t.name, name, value: t.configs[name]! });
    }
    for (const p of sortedPartitions(t)) {
      out.push({
        type: 'Partition',
        topicId: p.topicId,
        partitionId: p.partitionId,
        replicas: [...p.replicas],
        isr: [...p.isr],
        leader: p.leader,
        leaderEpoch: p.leaderEpoch,
        partitionEpoch: p.partitionEpoch,
      });
    }
  }
  const pid = image.producerIds;
  if (pid.nextProducerId > 0) out.push({ type: 'ProducerIds', brokerId: pid.brokerId, brokerEpoch: pid.brokerEpoch, nextProducerId: pid.nextProducerId });
  return out;
}

export function encodeSnapshot(image: MetadataImage): Uint8Array {
  const records = snapshotRecords(image);
  const w = new Writer(64 + records.length * 48);
  w.int32(MAGIC);
  w.int16(VERSION);
  w.int64(image.lastOffset);
  w.int32(image.lastEpoch);
  w.int32(records.length);
  for (const r of records) writeRecord(w, r);
  const body = w.finish();
  w.int32(crc32c(body, 0, body.length) | 0);
  return w.finish();
}

/**
 * The image a snapshot holds. Bytes that are not a whole snapshot (bad magic or CRC, truncated,
 * trailing bytes) throw CORRUPT_MESSAGE; records that do not replay throw their own coded error.
 */
export function decodeSnapshot(bytes: Uint8Array): MetadataImage {
  let records: MetadataRecord[];
  let lastOffset: number;
  let lastEpoch: number;
  try {
    if (bytes.length < 4) throw new WireError(`${bytes.length} bytes is too short for a snapshot`);
    const end = bytes.length - 4;
    const stored = new DataView(bytes.buffer, bytes.byteOffset + end, 4).getInt32(0);
    if ((crc32c(bytes, 0, end) | 0) !== stored) throw new WireError('CRC mismatch');
    const r = new Reader(bytes.subarray(0, end));
    const magic = r.int32();
    if (magic !== MAGIC) throw new WireError(`magic ${magic.toString(16)} is not a metadata snapshot's`);
    const version = r.int16();
    if (version !== VERSION) throw new WireError(`snapshot version ${version} is not supported`);
    lastOffset = r.int64();
    lastEpoch = r.int32();
    if (lastOffset < -1 || lastEpoch < -1) throw new WireError(`snapshot position ${lastOffset}@${lastEpoch} is invalid`);
    const count = r.int32();
    if (count < 0 || count > r.remaining) throw new WireError(`record count ${count} does not fit the ${r.remaining} bytes left`);
    records = [];
    for (let i = 0; i < count; i++) records.push(readRecord(r));
    if (r.remaining !== 0) throw new WireError(`${r.remaining} unexpected bytes after the records`);
  } catch (err) {
    throw asCorrupt(err, 'metadata snapshot');
  }
  let image = EMPTY_IMAGE;
  for (const record of records) image = replay(image, record);
  return { ...image, lastOffset, lastEpoch };
}
