/**
 * Replica placement for new partitions: Kafka's rack-unaware assignment
 * (AdminUtils.assignReplicasToBrokersRackUnaware). Partition p's first replica, its preferred
 * leader, is broker (start + p) mod n, so leaders go round-robin and n·k partitions give each
 * broker k leaders; the followers follow at a shift that grows by one every n partitions, so
 * the followers of one broker's leaders are spread over the others too.
 *
 * Kafka picks the start and shift at random. Here they are fixed and the brokers are ordered by
 * their existing load (fewest replicas first, then id), so the result is a function of its inputs
 * (every controller computes the same) and new topics still land on the emptiest brokers first.
 */
import { EddyError } from '../../../protocol/errors.js';

/**
 * Replica lists, one per partition, first replica = preferred leader. `brokers` are the
 * unfenced broker ids; `existingLoad` counts the replicas each already holds.
 * Throws INVALID_REPLICATION_FACTOR when rf is below 1 or above the number of brokers.
 */
export function placeReplicas(
  brokers: readonly number[],
  partitions: number,
  replicationFactor: number,
  existingLoad: ReadonlyMap<number, number> = new Map(),
): number[][] {
  const ids = [...new Set(brokers)];
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new EddyError('INVALID_REPLICATION_FACTOR', `replication factor ${replicationFactor} must be at least 1`);
  }
  if (replicationFactor > ids.length) {
    throw new EddyError('INVALID_REPLICATION_FACTOR', `replication factor ${replicationFactor} is more than the ${ids.length} available brokers`);
  }
  if (!Number.isInteger(partitions) || partitions < 0) throw new RangeError(`partition count ${partitions} must be ≥ 0`);
  const load = (b: number) => existingLoad.get(b) ?? 0;
  const order = ids.sort((a, b) => load(a) - load(b) || a - b);
  const n = order.length;
  const out: number[][] = [];
  let shift = 0;
  for (let p = 0; p < partitions; p++) {
    if (p > 0 && p % n === 0) shift++;
    const first = p % n;
    const replicas = [order[first]!];
    for (let j = 0; j < replicationFactor - 1; j++) replicas.push(order[(first + 1 + ((shift + j) % (n - 1))) % n]!);
    out.push(replicas);
  }
  return out;
}
