import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startNode } from '../../app/start-node.js';
import { Apis, type ApiSpec } from '../../protocol/apis/index.js';
import { writeRequest } from '../../protocol/frame.js';
import { encodeRecordBatch } from '../../protocol/record-batch.js';
import { encode } from '../../protocol/wire/schema.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/tmp.js';

const FRAMES = 10_000;
const WITNESS = 'witness-topic-never-targeted';

/** Valid frames of every API, as seeds for mutation. */
function seedFrames(): Uint8Array[] {
  const batch = encodeRecordBatch([{ key: new TextEncoder().encode('k'), value: new TextEncoder().encode('fuzz') }]);
  const seeds: [ApiSpec, unknown][] = [
    [Apis.Produce, { acks: 1, timeoutMs: 100, topics: [{ name: 'target', partitions: [{ partition: 0, records: batch }] }] }],
    [Apis.Fetch, { maxWaitMs: 50, minBytes: 1, maxBytes: 65536, isolation: 0, topics: [{ name: 'target', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 65536 }] }] }],
    [Apis.ListOffsets, { topics: [{ name: 'target', partitions: [{ partition: 0, timestamp: -1 }] }] }],
    [Apis.Metadata, { topics: ['target'] }],
    [Apis.ApiVersions, {}],
    [Apis.CreateTopics, { topics: [{ name: 'target2', numPartitions: 2, replicationFactor: -1, configs: [{ name: 'retention.ms', value: '1000' }] }], timeoutMs: 100, validateOnly: true }],
    [Apis.DeleteTopics, { names: ['target3'], timeoutMs: 100 }],
    [Apis.DescribeConfigs, { topics: [{ name: 'target', configNames: null }] }],
    [Apis.DescribeLogDirs, { topics: ['target'] }],
    [Apis.CreatePartitions, { topics: [{ name: 'target', count: 2 }], timeoutMs: 100, validateOnly: true }],
    [
      Apis.IncrementalAlterConfigs,
      { topics: [{ name: 'target', configs: [{ name: 'retention.ms', operation: 0, value: '1000' }, { name: 'max.message.bytes', operation: 1, value: null }] }], validateOnly: false },
    ],
    [Apis.OffsetCommit, { groupId: 'fuzz-group', memberId: '', memberEpoch: -1, topics: [{ name: 'target', partitions: [{ partition: 0, committedOffset: 0, committedMetadata: null }] }] }],
    [Apis.OffsetFetch, { groupId: 'fuzz-group', topics: null }],
    [Apis.ListGroups, { statesFilter: [] }],
    [Apis.DeleteGroups, { groupIds: ['fuzz-other-group'] }],
    [
      Apis.ConsumerGroupHeartbeat,
      { groupId: 'fuzz-group-2', memberId: '', memberEpoch: 0, rebalanceTimeoutMs: -1, sessionTimeoutMs: 500, subscribedTopicNames: ['target'], subscribedTopicRegex: null, serverAssignor: null, ownedPartitions: [], maxWaitMs: 0 },
    ],
    [Apis.ConsumerGroupDescribe, { groupIds: ['fuzz-group'] }],
  ];
  return seeds.map(([api, body], i) =>
    writeRequest({ apiKey: api.key, apiVersion: 0, correlationId: 1000 + i, clientId: 'fuzz' }, encode(api.versions[0]!.request, body as never)),
  );
}

const frameArb = (seeds: Uint8Array[]) =>
  fc.oneof(
    // Random bytes, with a plausible header half the time.
    fc.uint8Array({ maxLength: 300 }),
    fc.tuple(fc.constantFrom(...[0, 1, 2, 3, 8, 9, 16, 18, 19, 20, 32, 35, 37, 42, 44, 68, 69, 99, -1]), fc.uint8Array({ maxLength: 300 })).map(([key, rest]) => {
      const f = new Uint8Array(10 + rest.length);
      new DataView(f.buffer).setInt16(0, key);
      f.set(Uint8Array.of(0, 0, 0, 0, 0, 7, 0xff, 0xff), 2);
      f.set(rest, 10);
      return f;
    }),
    // Mutations of valid frames: byte flips, truncation, extension.
    fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), fc.boolean()).map(
      ([seed, edits, cut, extend]) => {
        const f = extend ? Uint8Array.from([...seed, ...seed.subarray(0, cut % 16)]) : seed.slice(0, Math.max(1, seed.length - (cut % 8)));
        for (const [at, byte] of edits) f[10 + (at % Math.max(1, f.length - 10))] = byte;
        return f;
      },
    ),
  );

describe('server fuzz', () => {
  it(`survives ${FRAMES.toLocaleString('en-US')} random and mutated frames, then serves a valid request with the witness log intact`, async () => {
    const node = await startNode({ dataDir: tempDir(), maxFrameBytes: 64 * 1024 });
    let client = await RawClient.connect(node.url);
    for (const name of ['target', WITNESS]) {
      await client.call(Apis.CreateTopics.key, { topics: [{ name, numPartitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
    }
    const witnessBatch = encodeRecordBatch([{ value: new TextEncoder().encode('must survive') }]);
    await client.call(Apis.Produce.key, { acks: -1, timeoutMs: 1000, topics: [{ name: WITNESS, partitions: [{ partition: 0, records: witnessBatch }] }] });
    const witnessBefore = Buffer.from(node.topics.partition(WITNESS, 0).read(0, 1 << 20).batches[0]!).toString('hex');

    const frames = fc.sample(frameArb(seedFrames()), { numRuns: FRAMES, seed: 20261124 });
    let sent = 0;
    let reconnects = 0;
    for (let i = 0; i < frames.length; i += 50) {
      if (client.ws.readyState !== client.ws.OPEN) {
        client = await RawClient.connect(node.url);
        reconnects++;
      }
      for (const f of frames.slice(i, i + 50)) {
        if (client.ws.readyState !== client.ws.OPEN) break;
        client.sendRaw(f);
        sent++;
      }
      // A round trip per 50 frames: the node is still answering (or closed this connection).
      if (client.ws.readyState === client.ws.OPEN) {
        await Promise.race([client.send(Apis.ApiVersions.key, new Uint8Array(0)).catch(() => undefined), client.closed]);
      }
    }
    expect(sent).toBeGreaterThanOrEqual(FRAMES * 0.9); // frames sent on a connection the node then closed are skipped
    expect(reconnects).toBeGreaterThan(10); // malformed headers were part of the mix

    const fresh = await RawClient.connect(node.url);
    const md = await fresh.call(Apis.Metadata.key, { topics: [WITNESS] });
    expect(md.topics[0]).toMatchObject({ errorCode: 0, name: WITNESS });
    const fetched = await fresh.call(Apis.Fetch.key, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolation: 0,
      topics: [{ name: WITNESS, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    expect(Buffer.from(fetched.topics[0].partitions[0].records).toString('hex')).toBe(witnessBefore);
    fresh.close();
    client.close();
    await node.close();
  }, 120_000);
});
