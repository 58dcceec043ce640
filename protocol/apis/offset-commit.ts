import { array, int16, int32, int64, nullableString, string, struct, type Infer } from '../wire/schema.js';

/**
 * OffsetCommit (key 8). A member commits with its memberId and memberEpoch and may commit only
 * partitions it owns (STALE_MEMBER_EPOCH otherwise); memberId "" with epoch -1 commits for a
 * group with no members (standalone consumers, `eddy groups reset-offsets`). Acknowledged once
 * the commit is durable in __consumer_offsets.
 */
export const OffsetCommitRequestV0 = struct({
  groupId: string,
  memberId: string,
  memberEpoch: int32,
  topics: array(
    struct({
      name: string,
      partitions: array(struct({ partition: int32, committedOffset: int64, committedMetadata: nullableString })),
    }),
  ),
});

export const OffsetCommitResponseV0 = struct({
  topics: array(struct({ name: string, partitions: array(struct({ partition: int32, errorCode: int16, errorMessage: nullableString })) })),
});

export type OffsetCommitRequest = Infer<typeof OffsetCommitRequestV0>;
export type OffsetCommitResponse = Infer<typeof OffsetCommitResponseV0>;
