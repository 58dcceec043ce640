/** A partition of a topic: the unit of ordering, assignment and position. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A map key for a topic-partition. NUL cannot occur in a topic name, so keys never collide. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Groups items by topic, keeping first-seen order of topics and the items' order within each. */
export function groupByTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(item.topic);
    if (list) list.push(item);
    else out.set(item.topic, [item]);
  }
  return out;
}
