import { array, int16, int32, int64, nullableString, struct, type Infer } from '../wire/schema.js';
import { topicIdType } from '../wire/uuid.js';

/**
 * AlterPartition (key 56, KIP-497), peer only: a partition leader asks the active controller to
 * change the partition's ISR (followers fell behind or caught up). The leader names the leader
 * epoch and partition epoch its view was taken at; the controller refuses a change made from a
 * stale view, so a deposed leader cannot shrink the ISR to itself and acknowledge writes alone.
 * Topics are named by topic id, as in the metadata records.
 */
export const AlterPartitionRequestV0 = struct({
  brokerId: int32,
  brokerEpoch: int64,
  topics: array(
    struct({
      topicId: topicIdType,
      partitions: array(
        struct({
          partitionIndex: int32,
          leaderEpoch: int32,
          newIsr: array(int32),
          partitionEpoch: int32,
        }),
      ),
    }),
  ),
});

export const AlterPartitionResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  topics: array(
    struct({
      topicId: topicIdType,
      partitions: array(
        struct({
          partitionIndex: int32,
          errorCode: int16,
          errorMessage: nullableString,
          leaderId: int32,
          leaderEpoch: int32,
          isr: array(int32),
          partitionEpoch: int32,
        }),
      ),
    }),
  ),
});

export type AlterPartitionRequest = Infer<typeof AlterPartitionRequestV0>;
export type AlterPartitionResponse = Infer<typeof AlterPartitionResponseV0>;
export type AlterPartitionTopicAnswer = AlterPartitionResponse['topics'][number];
export type AlterPartitionPartitionAnswer = AlterPartitionTopicAnswer['partitions'][number];
