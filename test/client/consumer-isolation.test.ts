/**
 * The consumer's Fetch in Kafka's terms: v1 with replicaId -1, isolationLevel on the wire as
 * isolation 0 or 1, and never a record past the high watermark.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, type ConsumerOptions } from '../../gateway/client/index.js';
import { NO_FETCH_EPOCHS, type FetchRequest, type FetchResponse } from '../../protocol/apis/fetch.js';
import { pollN, waitFor } from '../helpers/client.js';
import { testNode } from '../helpers/node.js';
import { metadataFor, scriptedNode } from '../helpers/scripted-node.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TP = { topic: 't', partition: 0 };
const text = (b: Uint8Array | null) => new TextDecoder().decode(b!);

function consumer(server: string, opts: Partial<ConsumerOptions> = {}): Consumer {
  const c = new Consumer({ server, maxWaitMs: 100, ...opts });
  cleanups.push(() => c.close());
  return c;
}

/** Empty answers to every Fetch; keeps what was asked. */
async function recordingNode(): Promise<{ url: string; fetches: FetchRequest[] }> {
  const fetches: FetchRequest[] = [];
  const node = await scriptedNode({
    // The consumer asks who leads the partition before it fetches: this node.
    Metadata: () => metadataFor('t', 1),
    Fetch: (req: FetchRequest): FetchResponse => {
      fetches.push(req);
      return {
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, errorMessage: null, highWatermark: 0, logStartOffset: 0, logEndOffset: 0, ...NO_FETCH_EPOCHS, records: new Uint8Array(0) })),
        })),
      };
    },
  });
  return { url: node.url, fetches };
}

describe('consumer isolationLevel', () => {
  it('sends Fetch v1 as a consumer (replicaId -1), isolation 0 by default (read_uncommitted, as Kafka) and 1 for read_committed', async () => {
    for (const [isolationLevel, isolation] of [[undefined, 0], ['read_uncommitted', 0], ['read_committed', 1]] as const) {
      const node = await recordingNode();
      const c = consumer(node.url, isolationLevel ? { isolationLevel } : {});
      c.assign([TP]);
      await c.seek(TP, 0);
      await c.poll({ timeoutMs: 100 });
      await waitFor(() => node.fetches.length > 0, 'a fetch');
      // The scripted node decodes by the header's version: replicaId is there only in v1.
      expect(node.fetches[0]).toMatchObject({ replicaId: -1, isolation });
    }
  });

  it('refuses an unknown isolationLevel', () => {
    expect(() => new Consumer({ server: 'ws://127.0.0.1:1', isolationLevel: 'read_dirty' as never })).toThrow(
      "isolationLevel must be 'read_uncommitted' or 'read_committed', got read_dirty",
    );
  });

  it('reads up to the high watermark and no further, at either level, until the high watermark moves', async () => {
    const n = await testNode();
    const admin = new Admin({ server: n.url });
    cleanups.push(() => admin.close());
    await admin.createTopics([{ name: 't', partitions: 1 }]);
    const p = new Producer({ server: n.url });
    cleanups.push(() => p.close());
    await p.send({ topic: 't', value: 'a' });
    await p.send({ topic: 't', value: 'b' });
    const log = n.topics.partition('t', 0);
    log.setReplicated(true); // the high watermark stays at 2 until replication moves it
    await p.send({ topic: 't', value: 'c' });
    expect(log).toMatchObject({ highWatermark: 2, logEndOffset: 3 });
    for (const isolationLevel of ['read_committed', 'read_uncommitted'] as const) {
      const c = consumer(n.url, { isolationLevel, autoOffsetReset: 'earliest' });
      c.assign([TP]);
      expect((await pollN(c, 2)).map((r) => text(r.value))).toEqual(['a', 'b']);
      expect(await c.poll({ timeoutMs: 300 })).toEqual([]);
    }
    const c = consumer(n.url, { isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
    c.assign([TP]);
    await pollN(c, 2);
    log.updateHighWatermark(3);
    expect((await pollN(c, 1)).map((r) => text(r.value))).toEqual(['c']);
  });
});
