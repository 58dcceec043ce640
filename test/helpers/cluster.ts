/**
 * A cluster of real `eddy start` child processes on 127.0.0.1, for multi-node tests. Each node
 * has its own temp data dir and its own ports, and keeps both across restarts, so that peers and
 * bootstrap lists that knew a node's address find it again. For now the nodes are independent
 * single nodes; the cluster flags (`--node-id`, `--controller-quorum-voters`) come in through
 * `args` once the nodes understand them, which is why `args` is told every node's ports.
 *
 * A cluster lives within one test: start it in the test or in beforeEach and close it in
 * afterEach. close() is safe there whatever happened, a start that failed halfway included; and
 * should a test leave it open, eddyStart still SIGKILLs each node when the test finishes and
 * tempDir removes the dirs. Every wait is bounded and fails naming what it waited for.
 */
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { within } from './client.js';
import { eddyStart, type EddyServer } from './eddy-process.js';
import { tempDir } from './tmp.js';

const HOST = '127.0.0.1';
/** Past the node's own shutdown limit (SHUTDOWN_LIMIT_MS, 10 s), after which it exits 1 by itself. */
const STOP_TIMEOUT_MS = 15_000;
/** SIGKILL cannot be caught: the exit is at once, bar a machine under heavy load. */
const KILL_TIMEOUT_MS = 5_000;

/** Where node `index` lives, fixed when the cluster starts. */
export interface NodePlan {
  index: number;
  /** Port of the client protocol (WebSocket). */
  port: number;
  /** Port of /health and /metrics. */
  httpPort: number;
  dataDir: string;
}

export interface ClusterOptions {
  /** How many nodes (default 3). */
  nodes?: number;
  /**
   * Extra flags for node `index`, given on every start of it (restarts too). `plan` is every
   * node's ports and dir, for flags that name the peers. Not for the flags the cluster sets
   * itself: --host, --port, --http-port, --no-mqtt, --data-dir.
   */
  args?: (index: number, plan: readonly NodePlan[]) => string[];
}

export interface ClusterNode extends NodePlan {
  /** ws://127.0.0.1:port, the same across restarts. */
  url: string;
  /** http://127.0.0.1:port, the same across restarts. */
  httpUrl: string;
  /** The pid of the node's latest process. */
  pid: number;
  /** Whether that process is still running. */
  running: boolean;
  /** What that process wrote to stdout (the banner and shutdown lines) and stderr (its log). */
  output(): string;
  errors(): string;
}

/** Creates and starts a cluster; if a node fails to start, closes the others and rethrows. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const cluster = new Cluster(options);
  try {
    return await cluster.start();
  } catch (err) {
    await cluster.close();
    throw err;
  }
}

export class Cluster {
  readonly size: number;
  readonly #args: NonNullable<ClusterOptions['args']>;
  #plan: NodePlan[] = [];
  /** Each node's latest process; undefined until it has started once. */
  readonly #servers: (EddyServer | undefined)[] = [];
  #closed: Promise<void> | undefined;

  constructor(options: ClusterOptions = {}) {
    this.size = options.nodes ?? 3;
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`a cluster needs at least one node, got ${options.nodes}`);
    this.#args = options.args ?? (() => []);
  }

  /** Picks the ports, makes the data dirs and starts every node; resolves once all of them serve. */
  async start(): Promise<this> {
    if (this.#plan.length > 0) throw new Error('the cluster was started already');
    this.#checkOpen();
    const ports = await freePorts(2 * this.size);
    this.#plan = Array.from({ length: this.size }, (_, index) => ({
      index,
      port: ports[2 * index]!,
      httpPort: ports[2 * index + 1]!,
      dataDir: tempDir(`eddy-cluster-${index}-`),
    }));
    // All at once (each start is mostly the child loading its code); every node gets its own
    // chance to fail, and close() takes down those that came up.
    const results = await Promise.allSettled(this.#plan.map((p) => this.#launch(p.index)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return this;
  }

  /** Every node's ports and dir (known from start(), whether or not the node came up). */
  plan(): readonly NodePlan[] {
    return this.#plan;
  }

  node(i: number): ClusterNode {
    const plan = this.#planOf(i);
    const server = this.#servers[i];
    if (!server) throw new Error(`cluster node ${i} has not started`);
    return {
      ...plan,
      url: wsUrl(plan),
      httpUrl: `http://${HOST}:${plan.httpPort}`,
      pid: server.child.pid!,
      running: isRunning(server),
      output: server.output,
      errors: server.errors,
    };
  }

  /** Every node's ws:// URL, running or not, in index order. */
  urls(): string[] {
    if (this.#plan.length === 0) throw new Error('the cluster has not started');
    return this.#plan.map(wsUrl);
  }

  /** The ws:// URLs comma-separated, as a client's server list. */
  bootstrap(): string {
    return this.urls().join(',');
  }

  /** Sends `signal` to node i and waits until its process has exited. */
  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const server = this.#runningServer(i);
    await within(server.stop(signal), `cluster node ${i} to exit after ${signal}`, signal === 'SIGKILL' ? KILL_TIMEOUT_MS : STOP_TIMEOUT_MS);
  }

  /** Stops node i gracefully (SIGTERM) and resolves with its exit code once it has exited (0: clean). */
  async stop(i: number): Promise<number | null> {
    const server = this.#runningServer(i);
    return within(server.stop('SIGTERM'), `cluster node ${i} to exit after SIGTERM`, STOP_TIMEOUT_MS);
  }

  /** Starts node i again on the same data dir and ports, stopping it gracefully first if it runs. */
  async restart(i: number): Promise<ClusterNode> {
    this.#checkOpen();
    const server = this.#servers[i];
    if (server && isRunning(server)) await this.stop(i);
    await this.#launch(i);
    return this.node(i);
  }

  /**
   * SIGKILLs every node that runs and removes the data dirs. Idempotent. No graceful stop: the
   * dirs go anyway, so a clean shutdown would buy nothing but time (test one with stop()).
   */
  close(): Promise<void> {
    return (this.#closed ??= (async () => {
      await Promise.all(
        this.#servers.map((s, i) => (s && isRunning(s) ? within(s.stop('SIGKILL'), `cluster node ${i} to exit after SIGKILL`, KILL_TIMEOUT_MS) : undefined)),
      );
      for (const p of this.#plan) rmSync(p.dataDir, { recursive: true, force: true });
    })());
  }

  async #launch(i: number): Promise<void> {
    const plan = this.#planOf(i);
    const args = ['--host', HOST, '--port', String(plan.port), '--http-port', String(plan.httpPort), '--no-mqtt', '--data-dir', plan.dataDir, ...this.#args(i, this.#plan)];
    // eddyStart gives up (and kills the child) when the banner is not out within 20 s.
    const server = await eddyStart(args).catch((err: unknown) => {
      throw new Error(`cluster node ${i} did not start: ${(err as Error).message}`);
    });
    this.#servers[i] = server;
    if (this.#closed) {
      // close() ran while this node was starting: it must not outlive the cluster.
      await within(server.stop('SIGKILL'), `cluster node ${i} to exit after SIGKILL`, KILL_TIMEOUT_MS);
      throw new Error(`cluster node ${i} started after the cluster was closed`);
    }
    if (server.url !== wsUrl(plan)) throw new Error(`cluster node ${i} listens on ${server.url}, not on ${wsUrl(plan)}`);
  }

  #planOf(i: number): NodePlan {
    const plan = this.#plan[i];
    if (!plan) throw new RangeError(this.#plan.length === 0 ? 'the cluster has not started' : `no cluster node ${i} (nodes 0 to ${this.size - 1})`);
    return plan;
  }

  #runningServer(i: number): EddyServer {
    this.#planOf(i);
    const server = this.#servers[i];
    if (!server || !isRunning(server)) throw new Error(`cluster node ${i} is not running`);
    return server;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('the cluster is closed');
  }
}

function wsUrl(plan: NodePlan): string {
  return `ws://${HOST}:${plan.port}`;
}

function isRunning(server: EddyServer): boolean {
  return server.child.exitCode === null && server.child.signalCode === null;
}

/**
 * `n` distinct ports free now: all held at once, then released for the nodes to take. Another
 * process could take one in between; it would make a start fail, loudly, never pass wrongly.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, HOST, () => resolve());
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
