/** The client uses the protocol's topic-partition helpers (one definition for node and client). */
export { groupByTopic, tpKey, type TopicPartition } from '../../protocol/topic-partition.js';
