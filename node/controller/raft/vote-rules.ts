/**
 * Whether a voter grants a Vote (KIP-595) or a pre-vote (KIP-996), as a pure decision. The node
 * applies the decision: bumps its epoch first when the candidate's is newer, records the vote
 * durably, and only then answers.
 */
import { RAFT_ERRORS } from './raft-errors.js';
import type { VoteRequest } from './raft-messages.js';
import { candidateLogIsUpToDate, type RaftRole } from './quorum-state.js';

export interface VoterView {
  readonly isVoter: (id: number) => boolean;
  readonly selfId: number;
  readonly role: RaftRole;
  readonly epoch: number;
  readonly votedFor: number | null;
  readonly leaderId: number | null;
  /** KIP-996: a leader, or a follower that fetched successfully within the election timeout. */
  readonly hearingLeader: boolean;
  readonly lastEpoch: number;
  readonly endOffset: number;
  /** Deliberate bug for the simulation's self-test: grant a second vote in the same epoch. */
  readonly doubleVote?: boolean;
}

export type VoteDecision =
  | { readonly grant: boolean; readonly errorCode: number }
  /** A standard vote of a newer epoch: move to that epoch (unattached), then decide again. */
  | { readonly bumpEpoch: number };

export function decideVote(view: VoterView, req: VoteRequest): VoteDecision {
  // Only voters vote, and only for voters: an observer's vote would not count toward any
  // majority, and a non-voter winning would lead a quorum it is not in.
  if (!view.isVoter(view.selfId) || !view.isVoter(req.candidateId)) return { grant: false, errorCode: RAFT_ERRORS.INCONSISTENT_VOTER_SET };
  if (req.candidateEpoch < view.epoch) return { grant: false, errorCode: RAFT_ERRORS.FENCED_LEADER_EPOCH };
  const upToDate = candidateLogIsUpToDate(req, view);
  if (req.preVote) {
    // A pre-vote changes nothing here. Refused while we still hear a leader, so a node that was
    // merely cut off cannot disturb a healthy quorum when it comes back (KIP-996).
    if (view.hearingLeader) return { grant: false, errorCode: RAFT_ERRORS.NONE };
    const epochOk = req.candidateEpoch > view.epoch || view.leaderId === null;
    return { grant: epochOk && upToDate, errorCode: RAFT_ERRORS.NONE };
  }
  if (req.candidateEpoch > view.epoch) return { bumpEpoch: req.candidateEpoch };
  // Same epoch: at most one vote per epoch (Raft §5.2), and none once a leader is known.
  if (view.leaderId !== null && view.leaderId !== req.candidateId) return { grant: false, errorCode: RAFT_ERRORS.NONE };
  const votedOther = view.votedFor !== null && view.votedFor !== req.candidateId;
  if (votedOther && !view.doubleVote) return { grant: false, errorCode: RAFT_ERRORS.NONE };
  if (view.role === 'leader') return { grant: false, errorCode: RAFT_ERRORS.NONE };
  return { grant: upToDate, errorCode: RAFT_ERRORS.NONE };
}
