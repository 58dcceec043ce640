/**
 * min.insync.replicas on a real node: acks=all to a partition whose ISR is smaller is refused
 * before anything is written (NOT_ENOUGH_REPLICAS, retriable), acks=1 is not, and lowering the
 * config lets acks=all through again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../app/start-node.js';
import { Admin } from '../../gateway/client/index.js';
import { Apis } from '../../protocol/apis/index.js';
import type { ProduceResponse } from '../../protocol/apis/produce.js';
import { ERRORS } from '../../protocol/errors.js';
import { encodeRecordBatch } from '../../protocol/record-batch.js';
import { testNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';

let node: RunningNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

const utf8 = new TextEncoder();

async function produce(c: RawClient, acks: number): Promise<ProduceResponse['topics'][number]['partitions'][number]> {
  const records = encodeRecordBatch([{ key: utf8.encode('k'), value: utf8.encode(`acks ${acks}`) }]);
  const res = await c.call<ProduceResponse>(Apis.Produce.key, { acks, timeoutMs: 5000, topics: [{ name: 'strict', partitions: [{ partition: 0, records }] }] });
  return res.topics[0]!.partitions[0]!;
}

describe('min.insync.replicas', () => {
  it('refuses acks=all below it before writing, and not acks=1', async () => {
    node = await testNode();
    const admin = new Admin({ server: node.url });
    const c = await RawClient.connect(node.url);
    try {
      await admin.createTopics([{ name: 'strict', partitions: 1, configs: { 'min.insync.replicas': '2' } }]);
      const refused = await produce(c, -1);
      expect(refused.errorCode).toBe(ERRORS.NOT_ENOUGH_REPLICAS.code);
      expect(refused.errorMessage).toMatch(/strict-0 has 1 in-sync replica\(s\) \[\d+\], fewer than its min\.insync\.replicas=2; nothing was written/);
      expect(node.topics.partition('strict', 0).logEndOffset).toBe(0);
      expect((await produce(c, 1)).errorCode).toBe(0);
      await admin.alterTopicConfigs('strict', { set: { 'min.insync.replicas': '1' } });
      expect((await produce(c, -1)).errorCode).toBe(0);
      expect(node.topics.partition('strict', 0).logEndOffset).toBe(2);
    } finally {
      c.close();
      await admin.close();
    }
  });
});
