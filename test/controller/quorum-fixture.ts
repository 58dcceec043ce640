/** Quorum drivers on real log stores in temp dirs, over one loopback network, for the driver's tests. */
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { newTopicId, topicByName, type MetadataRecord } from '../../node/controller/metadata/index.js';
import { QuorumDriver } from '../../node/controller/quorum-driver.js';
import { LoopbackQuorumNetwork } from '../../node/controller/quorum-transport.js';
import { LogStore } from '../../node/storage/log-store.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

export const FAST_RAFT = { electionTimeoutMs: 150, fetchTimeoutMs: 300, electionBackoffMaxMs: 100, fetchMaxWaitMs: 20, requestTimeoutMs: 300 };

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const topicRecord = (name: string): MetadataRecord => ({ type: 'Topic', name, topicId: newTopicId() });
export const hasTopic = (d: QuorumDriver, name: string) => topicByName(d.image, name) !== undefined;

/** One voter's data directory and, while it runs, its store and driver. */
export class Member {
  readonly dir = tempDir('eddy-quorum-');
  store: LogStore | null = null;
  driver: QuorumDriver | null = null;
  readonly log = captureLogger();

  constructor(readonly id: number, readonly voters: number[], readonly net: LoopbackQuorumNetwork, readonly snapshotEveryRecords = 1000) {}

  get d(): QuorumDriver {
    if (!this.driver) throw new Error(`member ${this.id} is not running`);
    return this.driver;
  }

  async start(): Promise<QuorumDriver> {
    this.store = await LogStore.open({ path: join(this.dir, 'log.db'), logger: this.log.logger });
    this.driver = await QuorumDriver.start({
      nodeId: this.id, voters: this.voters, dataDir: this.dir, store: this.store, transport: this.net.transport(this.id),
      logger: this.log.logger, raft: FAST_RAFT, snapshotEveryRecords: this.snapshotEveryRecords, tickIntervalMs: 10, proposeTimeoutMs: 1000,
    });
    return this.driver;
  }

  async stop(): Promise<void> {
    await this.driver?.close();
    await this.store?.close();
    this.driver = null;
    this.store = null;
  }
}

export function cluster(ids: number[], snapshotEveryRecords = 1000): Member[] {
  const net = new LoopbackQuorumNetwork();
  const members = ids.map((id) => new Member(id, ids, net, snapshotEveryRecords));
  onTestFinished(async () => {
    for (const m of members) await m.stop();
  });
  return members;
}

/** The one running member every running member agrees leads. */
export async function agreedLeader(members: Member[]): Promise<Member> {
  const up = () => members.filter((m) => m.driver);
  await waitFor('an agreed leader', () => {
    const leaders = up().filter((m) => m.d.role === 'leader');
    return leaders.length === 1 && up().every((m) => m.d.leaderId === leaders[0]!.id && m.d.epoch === leaders[0]!.d.epoch);
  });
  return up().find((m) => m.d.role === 'leader')!;
}
