/**
 * An idempotent producer whose partition must move to a new epoch while the node is unreachable:
 * the batches waiting for that epoch still fail at their delivery timeout, with why the node is
 * unreachable, instead of waiting for it for ever (send, flush and close all hung before).
 *
 * The node is scripted (test/helpers/scripted-node.ts): it refuses the first batch with
 * OUT_OF_ORDER_SEQUENCE_NUMBER and is gone right after, the moment a real node that lost track
 * of the producer and then went down would leave it in.
 */
import { describe, expect, it } from 'vitest';
import { Producer, isEddyError } from '../../gateway/client/index.js';
import type { ProduceRequest } from '../../protocol/apis/produce.js';
import { ERRORS } from '../../protocol/errors.js';
import { rejection, within } from '../helpers/client.js';
import { metadataFor, scriptedNode, type ScriptedNode } from '../helpers/scripted-node.js';

describe('idempotent producer: waiting for a new epoch', () => {
  it('fails the waiting batch at its delivery timeout when the node is gone, and flush and close return', async () => {
    let node: ScriptedNode | undefined;
    node = await scriptedNode({
      Metadata: () => metadataFor('t', 1),
      InitProducerId: () => ({ producerId: 7, producerEpoch: 0 }),
      Produce: (req: ProduceRequest) => {
        setTimeout(() => void node!.close(), 0); // answered, then gone
        return {
          topics: req.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partition: p.partition,
              errorCode: ERRORS.OUT_OF_ORDER_SEQUENCE_NUMBER.code,
              errorMessage: 'expected sequence 3',
              baseOffset: -1,
              logAppendTimeMs: -1,
              logStartOffset: 0,
            })),
          })),
        };
      },
    });
    const producer = new Producer({
      server: node.url,
      lingerMs: 0,
      requestTimeoutMs: 300,
      deliveryTimeoutMs: 1500,
      retryBackoffMs: 20,
      retryBackoffMaxMs: 50,
      reconnectBackoffMaxMs: 50,
    });
    const started = Date.now();
    const err = await within(rejection(producer.send({ topic: 't', value: 'v' })), 'the send to fail', 10_000);
    const tookMs = Date.now() - started;
    expect(node.count('Produce')).toBe(1);
    expect(isEddyError(err) && err.errorName).toBe('REQUEST_TIMED_OUT');
    expect(String(err)).toMatch(/InitProducerId|ECONNREFUSED|connection/);
    expect(tookMs).toBeGreaterThanOrEqual(1400);
    await within(producer.flush(), 'flush()', 5000);
    await within(producer.close(), 'close()', 5000);
  });
});
