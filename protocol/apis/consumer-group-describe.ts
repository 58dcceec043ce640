import { array, int16, int32, int64, nullableString, string, struct, type Infer } from '../wire/schema.js';

const TopicPartitions = struct({ topic: string, partitions: array(int32) });

/**
 * ConsumerGroupDescribe (key 69): members with their subscriptions, current and target
 * assignments, and (an Eddy addition, so one call answers "how far behind is this group") per
 * partition the committed offset, log end offset, high watermark and lag. committedOffset and lag
 * are -1 when nothing is committed; lag = high watermark - committed offset.
 */
export const ConsumerGroupDescribeRequestV0 = struct({ groupIds: array(string) });

export const ConsumerGroupDescribeResponseV0 = struct({
  groups: array(
    struct({
      errorCode: int16,
      errorMessage: nullableString,
      groupId: string,
      state: string,
      groupEpoch: int32,
      assignmentEpoch: int32,
      assignor: string,
      members: array(
        struct({
          memberId: string,
          clientId: string,
          clientHost: string,
          memberEpoch: int32,
          subscribedTopicNames: array(string),
          subscribedTopicRegex: nullableString,
          assignment: array(TopicPartitions),
          targetAssignment: array(TopicPartitions),
        }),
      ),
      offsets: array(
        struct({
          topic: string,
          partition: int32,
          committedOffset: int64,
          metadata: nullableString,
          logEndOffset: int64,
          highWatermark: int64,
          lag: int64,
          owner: nullableString,
        }),
      ),
    }),
  ),
});

export type ConsumerGroupDescribeRequest = Infer<typeof ConsumerGroupDescribeRequestV0>;
export type ConsumerGroupDescribeResponse = Infer<typeof ConsumerGroupDescribeResponseV0>;
