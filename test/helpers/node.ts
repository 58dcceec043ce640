/** A real node for in-process integration tests, closed (once) when the test finishes. */
import { onTestFinished } from 'vitest';
import { startNode, type RunningNode, type StartNodeOptions } from '../../app/start-node.js';
import { tempDir } from './tmp.js';

/**
 * Starts a node on 127.0.0.1 with a temp data dir (or `dataDir`). `close()` may be called by the
 * test (to restart on the same dir); the automatic close after the test then does nothing.
 */
export async function testNode(dataDir = tempDir(), port = 0, opts: Partial<StartNodeOptions> = {}): Promise<RunningNode> {
  const n = await startNode({ ...opts, dataDir, port });
  let closed: Promise<void> | undefined;
  const close = n.close.bind(n);
  n.close = () => (closed ??= close());
  onTestFinished(() => n.close());
  return n;
}

/**
 * Requests the node has started and not yet answered, over all its client connections. A Fetch
 * long-polling for data counts: handling a request runs without a pause up to its first wait, so
 * once a Fetch is counted here it has read the log, found too little, and is waiting for appends.
 */
export function requestsInFlight(node: Pick<RunningNode, 'connectionStats'>): number {
  return node.connectionStats().reduce((n, c) => n + c.inFlight, 0);
}
