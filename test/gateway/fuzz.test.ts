import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startNode } from '../../app/start-node.js';
import { Apis, type ApiSpec } from '../../protocol/apis/index.js';
import { CONSUMER_PARTITION_EPOCHS, FetchRequestV1 } from '../../protocol/apis/fetch.js';
import { writeRequest } from '../../protocol/frame.js';
import { encodeRecordBatch } from '../../protocol/record-batch.js';
import { encode } from '../../protocol/wire/schema.js';
import { RawClient } from '../helpers/raw-client.js';
import { parseMetrics } from '../helpers/metrics.js';
import { tempDir } from '../helpers/tmp.js';

const FRAMES = 10_000;
const WITNESS = 'witness-topic-never-targeted';

/** A Fetch of partition target-0 as `version` (v1 adds the leading replicaId). */
function fetchSeed(version: number, o: { replicaId?: number; isolation?: number } = {}): [ApiSpec, unknown, number] {
  const v1 = { replicaId: o.replicaId ?? -1, maxWaitMs: 50, minBytes: 1, maxBytes: 65536, isolation: o.isolation ?? 0, topics: [{ name: 'target', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 65536 }] }] };
  const { replicaId: _, ...v0 } = v1;
  return [Apis.Fetch, version === 0 ? v0 : v1, version];
}

/** Fetch v1 seeds: a consumer at either isolation, a claimed replica, a bad isolation, two partitions. */
const FETCH_V1_SEEDS: [ApiSpec, unknown, number][] = [
  fetchSeed(1),
  fetchSeed(1, { isolation: 1 }),
  fetchSeed(1, { replicaId: 3 }),
  fetchSeed(1, { isolation: 2 }),
  [Apis.Fetch, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolation: 1, topics: [{ name: 'target', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 100 }, { partition: 1, fetchOffset: 0, partitionMaxBytes: 100 }] }] }, 1],
];

/** Valid frames of every API and version, as seeds for mutation. */
function seedFrames(): Uint8Array[] {
  const batch = encodeRecordBatch([{ key: new TextEncoder().encode('k'), value: new TextEncoder().encode('fuzz') }]);
  const seeds: [ApiSpec, unknown, number?][] = [
    [Apis.Produce, { acks: 1, timeoutMs: 100, topics: [{ name: 'target', partitions: [{ partition: 0, records: batch }] }] }],
    fetchSeed(0),
    ...FETCH_V1_SEEDS,
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
  return framesOf(seeds);
}

/** Frames of the seeds; with a null client id the header is exactly 10 bytes, the body after it. */
function framesOf(seeds: [ApiSpec, unknown, number?][], clientId: string | null = 'fuzz'): Uint8Array[] {
  return seeds.map(([api, body, version = 0], i) =>
    writeRequest({ apiKey: api.key, apiVersion: version, correlationId: 1000 + i, clientId }, encode(api.versions[version]!.request, body as never)),
  );
}

/** A header for `apiKey` at `version` (correlation id 7, null client id), then `rest`. */
function withHeader(apiKey: number, version: number, rest: Uint8Array): Uint8Array {
  const f = new Uint8Array(10 + rest.length);
  const dv = new DataView(f.buffer);
  dv.setInt16(0, apiKey);
  dv.setInt16(2, version);
  f.set(Uint8Array.of(0, 0, 0, 7, 0xff, 0xff), 4);
  f.set(rest, 10);
  return f;
}

/** Byte flips, truncation, extension of a valid frame (past the first 10 header bytes). */
const mutationArb = (seeds: Uint8Array[]) =>
  fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), fc.boolean()).map(
    ([seed, edits, cut, extend]) => {
      const f = extend ? Uint8Array.from([...seed, ...seed.subarray(0, cut % 16)]) : seed.slice(0, Math.max(1, seed.length - (cut % 8)));
      for (const [at, byte] of edits) f[10 + (at % Math.max(1, f.length - 10))] = byte;
      return f;
    },
  );

const frameArb = (seeds: Uint8Array[]) =>
  fc.oneof(
    // Random bytes, with a plausible header half the time.
    fc.uint8Array({ maxLength: 300 }),
    fc
      .tuple(fc.constantFrom(...[0, 1, 2, 3, 8, 9, 10, 16, 18, 19, 20, 32, 35, 37, 42, 44, 52, 53, 54, 55, 59, 62, 63, 67, 68, 69, 1000, 1001, 99, -1]), fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 300 }))
      .map(([key, version, rest]) => withHeader(key, version, rest)),
    mutationArb(seeds),
  );

/** Well-formed Fetch v1 requests with any replicaId and isolation: they reach the handler's checks. */
const fetchV1RequestArb = fc
  .record({
    // Mostly a consumer (served); else a claimed replica or nonsense (refused).
    replicaId: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, fc.constantFrom(-2, 0, 1, 3), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
    maxWaitMs: fc.integer({ min: 0, max: 20 }), // short: a fuzzed long-poll holds nothing up
    minBytes: fc.integer({ min: 0, max: 1 << 16 }),
    maxBytes: fc.integer({ min: 0, max: 1 << 20 }),
    isolation: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0, 1) }, fc.integer({ min: -128, max: 127 })),
    topics: fc.array(
      fc.record({
        name: fc.oneof(fc.constant('target'), fc.constant(WITNESS), fc.string({ maxLength: 10 })),
        partitions: fc.array(
          fc.record({ partition: fc.integer({ min: -1, max: 3 }), fetchOffset: fc.integer({ min: -1, max: 3 }), partitionMaxBytes: fc.integer({ min: 0, max: 1 << 16 }) }),
          { maxLength: 3 },
        ),
      }),
      { maxLength: 3 },
    ),
  })
  .map((req) => withHeader(Apis.Fetch.key, 1, encode(FetchRequestV1, req)));

/**
 * Fetch v1 only: random bodies under its header, mutated and cut-short valid requests, and
 * well-formed ones with arbitrary field values. The header (10 bytes, null client id) stays
 * intact, so the connection stays open and every frame reaches the Fetch decoder; broken
 * headers are the other run's business.
 */
const fetchV1FrameArb = (seeds: Uint8Array[]) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 120 }).map((rest) => withHeader(Apis.Fetch.key, 1, rest)),
    mutationArb(seeds),
    fc.tuple(fc.constantFrom(...seeds), fc.nat()).map(([seed, cut]) => seed.slice(0, 10 + (cut % (seed.length - 10)))),
    fetchV1RequestArb,
  );

/**
 * Sends `frames` to a fresh node (reconnecting whenever it closes the connection), then checks it
 * still answers and the witness log is byte for byte what was produced before.
 */
async function survive(frames: Uint8Array[]): Promise<{ reconnects: number; fetches: { answered: number; invalid: number } }> {
  const node = await startNode({ dataDir: tempDir(), maxFrameBytes: 64 * 1024 });
  let client = await RawClient.connect(node.url);
  for (const name of ['target', WITNESS]) {
    await client.call(Apis.CreateTopics.key, { topics: [{ name, numPartitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
  }
  const witnessBatch = encodeRecordBatch([{ value: new TextEncoder().encode('must survive') }]);
  await client.call(Apis.Produce.key, { acks: -1, timeoutMs: 1000, topics: [{ name: WITNESS, partitions: [{ partition: 0, records: witnessBatch }] }] });
  // Records in target-0, so that fuzzed fetches of it are answered at once rather than long-poll.
  const targetBatch = encodeRecordBatch([{ value: new TextEncoder().encode('fetch me') }]);
  await client.call(Apis.Produce.key, { acks: -1, timeoutMs: 1000, topics: [{ name: 'target', partitions: [{ partition: 0, records: targetBatch }] }] });
  const witnessBefore = Buffer.from(node.topics.partition(WITNESS, 0).read(0, 1 << 20).batches[0]!).toString('hex');

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

  const fresh = await RawClient.connect(node.url);
  const md = await fresh.call(Apis.Metadata.key, { topics: [WITNESS] });
  expect(md.topics[0]).toMatchObject({ errorCode: 0, name: WITNESS });
  const fetched = await fresh.call(Apis.Fetch.key, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolation: 0,
    topics: [{ name: WITNESS, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, ...CONSUMER_PARTITION_EPOCHS }] }],
  });
  expect(Buffer.from(fetched.topics[0].partitions[0].records).toString('hex')).toBe(witnessBefore);
  const metrics = parseMetrics(await node.metrics.registry.metrics());
  const fetches = {
    answered: metrics.value('eddy_requests_total', { api: 'Fetch', error: 'NONE' }) ?? 0,
    invalid: metrics.value('eddy_requests_total', { api: 'Fetch', error: 'INVALID_REQUEST' }) ?? 0,
  };
  fresh.close();
  client.close();
  await node.close();
  return { reconnects, fetches };
}

describe('server fuzz', () => {
  it(`survives ${FRAMES.toLocaleString('en-US')} random and mutated frames of every API and version, then serves a valid request with the witness log intact`, async () => {
    const { reconnects } = await survive(fc.sample(frameArb(seedFrames()), { numRuns: FRAMES, seed: 20261124 }));
    expect(reconnects).toBeGreaterThan(10); // malformed headers were part of the mix
  }, 120_000);

  it(`survives ${FRAMES.toLocaleString('en-US')} random, mutated and cut Fetch v1 frames (replicaId, isolation), witness log intact`, async () => {
    const { fetches } = await survive(fc.sample(fetchV1FrameArb(framesOf(FETCH_V1_SEEDS, null)), { numRuns: FRAMES, seed: 20261125 }));
    // Both paths were walked many times: requests that decode and are served, and refused ones
    // (bodies that do not decode, a claimed replicaId, a bad isolation).
    expect(fetches.answered).toBeGreaterThan(500);
    expect(fetches.invalid).toBeGreaterThan(500);
  }, 120_000);
});
