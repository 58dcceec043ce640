/**
 * The metadata log as the internal partition `__cluster_metadata`-0 of the node's LogStore
 * (KIP-595 keeps it as an ordinary log too). One record batch per Raft entry: the batch's
 * partitionLeaderEpoch is the entry's Raft epoch and its base offset the Raft offset, written
 * through the follower path so the storage layer keeps the offsets given. One batch per entry
 * (not per append) because `truncateTo` removes whole batches: a Raft truncation inside a batch
 * would take entries the core still believes durable.
 *
 * Data entries carry the MetadataRecord bytes as the record value; the LeaderChange control
 * entries carry their JSON under a `raft.control` record header.
 */
import { EddyError } from '../../protocol/errors.js';
import { encodeRecordBatch, forEachRecord, readBatchHeader } from '../../protocol/record-batch.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { CLUSTER_METADATA_TOPIC } from '../topics/topic-name.js';
import type { RaftEntry } from './raft/raft-messages.js';

export const METADATA_TOPIC = CLUSTER_METADATA_TOPIC;
export const METADATA_PARTITION = 0;

const CONTROL_HEADER = 'raft.control';
const UTF8 = new TextEncoder();
const UTF8_DECODER = new TextDecoder();

/** The batch that stores `entry` at its offset and epoch. */
export function encodeEntry(entry: RaftEntry, timestamp: number): Uint8Array {
  const options = { baseOffset: entry.offset, partitionLeaderEpoch: entry.epoch, baseTimestamp: timestamp };
  if (entry.control) {
    const headers = [{ key: CONTROL_HEADER, value: UTF8.encode(JSON.stringify(entry.payload)) }];
    return encodeRecordBatch([{ value: null, headers }], options);
  }
  if (!(entry.payload instanceof Uint8Array)) throw new TypeError(`metadata entry ${entry.offset} has no record bytes`);
  return encodeRecordBatch([{ value: entry.payload }], options);
}

/** The entries of one stored batch. */
export function decodeEntries(batch: Uint8Array): RaftEntry[] {
  const epoch = readBatchHeader(batch).partitionLeaderEpoch;
  const out: RaftEntry[] = [];
  forEachRecord(batch, (offset, _ts, _key, value, headers) => {
    const control = headers.find((h) => h.key === CONTROL_HEADER);
    if (control) {
      out.push({ offset, epoch, control: true, payload: JSON.parse(UTF8_DECODER.decode(control.value ?? new Uint8Array())) as unknown });
    } else {
      if (value === null) throw new EddyError('CORRUPT_MESSAGE', `metadata log entry ${offset} has no value`);
      out.push({ offset, epoch, payload: value.slice() });
    }
  });
  return out;
}

/** Every entry from `from` to the log end, in offset order. */
export function readEntries(log: PartitionLog, from: number): RaftEntry[] {
  const out: RaftEntry[] = [];
  let offset = Math.max(from, log.logStartOffset);
  while (offset < log.logEndOffset) {
    const r = log.read(offset, 1 << 20, { upTo: 'log-end' });
    if (r.batches.length === 0) break;
    for (const b of r.batches) for (const e of decodeEntries(b)) if (e.offset >= offset) out.push(e);
    offset = r.nextOffset;
  }
  return out;
}
