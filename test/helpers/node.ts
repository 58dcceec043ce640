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
