/**
 * What the admin client reports about consumer groups. The wire uses -1 for "none" (no commit,
 * no lag, no owner); these types use null instead, so that a caller cannot do arithmetic on it.
 */
import type { TopicPartition } from './topic-partition.js';

/**
 * `empty`: no members (the group lives on through its committed offsets); `assigning`: some member
 * has not yet reached its target assignment or the group's epoch; `stable`: every member has.
 */
export type GroupState = 'empty' | 'assigning' | 'stable';

export interface GroupListing {
  groupId: string;
  state: GroupState;
  /** Members now; 0 for a group known only by its committed offsets. */
  members: number;
  /** range, roundrobin or sticky; null when the group has had no members since the node started. */
  assignor: string | null;
}

export interface GroupMemberDescription {
  memberId: string;
  clientId: string;
  /** The address the member's connection came from. */
  clientHost: string;
  memberEpoch: number;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  /**
   * What the member has been given and may consume now, sorted by topic and partition. A
   * partition it was told to release is left out, even while it is still finishing with it.
   */
  assignment: TopicPartition[];
  /** What the assignor wants it to own; differs from `assignment` while the group is assigning. */
  targetAssignment: TopicPartition[];
}

export interface GroupPartitionOffsets extends TopicPartition {
  /** The next offset the group will consume; null when nothing is committed. */
  committedOffset: number | null;
  metadata: string | null;
  /** -1 when the topic no longer exists (its commits are shown until they are deleted). */
  logEndOffset: number;
  /** -1 when the topic no longer exists. */
  highWatermark: number;
  /**
   * highWatermark − committedOffset, null when nothing is committed; negative when the commit lies
   * past the high watermark (a reset beyond the end).
   */
  lag: number | null;
  /**
   * memberId of the member that holds the partition now (including an old owner still releasing
   * it during a hand-over), null when no member does.
   */
  owner: string | null;
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  /** Bumped whenever membership or subscriptions change. */
  groupEpoch: number;
  /** The group epoch the current target assignment was computed for. */
  assignmentEpoch: number;
  /** range, roundrobin or sticky; null when the group has had no members since the node started. */
  assignor: string | null;
  members: GroupMemberDescription[];
  /**
   * Every partition of the subscribed topics and every partition with a commit, sorted by topic
   * and partition.
   */
  partitions: GroupPartitionOffsets[];
}

export interface GroupOffset extends TopicPartition {
  /** The next offset the group will consume; null when nothing is committed. */
  offset: number | null;
  metadata: string | null;
}

export interface OffsetReset extends TopicPartition {
  /** The next offset the group will consume (≥ 0). */
  offset: number;
  /** Stored with the commit; default null. */
  metadata?: string | null;
}
