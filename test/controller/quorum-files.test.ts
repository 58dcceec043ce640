/** The quorum driver's on-disk pieces: metadata log entries as batches, quorum-state.json, snapshot files. */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRecord, EMPTY_IMAGE, encodeRecord, encodeSnapshot, newTopicId } from '../../node/controller/metadata/index.js';
import { decodeEntries, encodeEntry } from '../../node/controller/metadata-log.js';
import { readQuorumState, writeQuorumState } from '../../node/controller/quorum-state-file.js';
import { loadLatestSnapshot, writeSnapshot } from '../../node/controller/snapshot-files.js';
import { readBatchHeader } from '../../protocol/record-batch.js';
import { tempDir } from '../helpers/tmp.js';

describe('metadata log entries', () => {
  it('round-trip data and control entries with offset and epoch in the batch header', () => {
    const payload = encodeRecord({ type: 'Topic', name: 'a', topicId: newTopicId() });
    const data = encodeEntry({ offset: 7, epoch: 3, payload }, 1);
    expect(readBatchHeader(data)).toMatchObject({ baseOffset: 7, partitionLeaderEpoch: 3 });
    expect(decodeEntries(data)).toEqual([{ offset: 7, epoch: 3, payload }]);
    const control = { offset: 8, epoch: 4, control: true, payload: { type: 'LeaderChange', leaderId: 2, voters: [1, 2, 3] } };
    expect(decodeEntries(encodeEntry(control, 1))).toEqual([control]);
  });
});

describe('quorum-state.json', () => {
  it('is absent on a fresh voter, round-trips, and refuses a damaged file', () => {
    const dir = tempDir();
    expect(readQuorumState(dir)).toBeNull();
    writeQuorumState(dir, { epoch: 5, votedFor: 2, leaderId: null });
    expect(readQuorumState(dir)).toEqual({ epoch: 5, votedFor: 2, leaderId: null });
    writeFileSync(join(dir, 'quorum-state.json'), '{"epoch":');
    expect(() => readQuorumState(dir)).toThrow(/not valid JSON/);
    writeFileSync(join(dir, 'quorum-state.json'), '{"epoch":-1,"votedFor":null,"leaderId":null}');
    expect(() => readQuorumState(dir)).toThrow(/does not hold/);
  });
});

describe('snapshot files', () => {
  it('load the newest valid snapshot, skipping a damaged one, and keep only the latest when written', () => {
    const dir = tempDir();
    const logs: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_o: object, msg: string) => void logs.push(msg) };
    expect(loadLatestSnapshot(dir)).toBeNull();
    let image = applyRecord(EMPTY_IMAGE, { type: 'Topic', name: 'a', topicId: newTopicId() }, 0, 1);
    image = applyRecord(image, { type: 'NoOp' }, 1, 1);
    writeSnapshot(dir, { endOffset: 2, epoch: 1 }, encodeSnapshot(image));
    expect(loadLatestSnapshot(dir)?.id).toEqual({ endOffset: 2, epoch: 1 });
    writeFileSync(join(dir, 'snapshots', '9-1.snapshot'), new Uint8Array([1, 2, 3, 4, 5]));
    const loaded = loadLatestSnapshot(dir, logger);
    expect(loaded?.id).toEqual({ endOffset: 2, epoch: 1 });
    expect(loaded?.image.topicIdsByName.has('a')).toBe(true);
    expect(logs.some((l) => l.includes('9-1.snapshot'))).toBe(true);
    image = applyRecord(image, { type: 'NoOp' }, 2, 2);
    mkdirSync(join(dir, 'snapshots'), { recursive: true });
    writeSnapshot(dir, { endOffset: 3, epoch: 2 }, encodeSnapshot(image));
    expect(loadLatestSnapshot(dir)?.id).toEqual({ endOffset: 3, epoch: 2 });
  });
});
