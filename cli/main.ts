#!/usr/bin/env node
/**
 * The `eddy` command. Parses flags and prints; the work is in node/ (see cli/start.ts).
 */
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../node/config.js';
import { isEddyError } from '../protocol/errors.js';
import { VERSION } from '../node/version.js';
import { registerCluster } from './cluster.js';
import { registerConsume } from './consume.js';
import { registerGroups } from './groups.js';
import { registerProduce } from './produce.js';
import { registerTopics } from './topics.js';

// `eddy … | head`: when the reader goes away, stop quietly, as cat or grep would.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command();
program.name('eddy').description('Kafka-style streaming node for edge gateways').version(VERSION);

program
  .command('start')
  .description('start a node (embedded defaults; see README for every setting)')
  .option('--data-dir <dir>', 'where the node keeps its data (EDDY_DATA_DIR, default ./eddy-data)')
  .option('--host <host>', 'interface to listen on (EDDY_HOST, default 127.0.0.1)')
  .option('--port <port>', 'WebSocket port, 0 = any free port (EDDY_PORT, default 9400)')
  .option('--config <file>', 'JSON config file; keys are these flag names (EDDY_CONFIG)')
  .option('--sync <policy>', 'when appends reach the disk: always | interval:<ms> (EDDY_SYNC, default always)')
  .option('--log-level <level>', 'debug | info | warn | error (EDDY_LOG_LEVEL, default info)')
  .option('--log-format <format>', 'json | pretty (EDDY_LOG_FORMAT, default pretty on a terminal, json otherwise)')
  .option('--max-frame-bytes <n>', 'largest request accepted (EDDY_MAX_FRAME_BYTES, default 8388608)')
  .option('--http-port <port>', 'health and metrics HTTP port, 0 = any free port (EDDY_HTTP_PORT, default 9401)')
  .option('--no-http', 'do not serve /health and /metrics')
  .option('--mqtt-port <port>', 'embedded MQTT listener port, 0 = any free port (EDDY_MQTT_PORT, default 1883)')
  .option('--no-mqtt', 'do not start the embedded MQTT listener')
  .option('--mqtt-bridge <url>', 'also take messages from this MQTT broker (persistent session, QoS 1)')
  .option('--mqtt-bridge-topic <filter>', 'topic filter to bridge, repeatable (default #)', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--max-disk-bytes <size>', 'disk budget for the log, e.g. 8GiB; new records are refused from 95 % of it (EDDY_MAX_DISK_BYTES, default none)')
  .option('--retention-check-interval-ms <ms>', 'how often retention deletes expired records (EDDY_RETENTION_CHECK_INTERVAL_MS, default 30000)')
  .option('--producer-id-expiration-ms <ms>', 'forget an idempotent producer idle this long (EDDY_PRODUCER_ID_EXPIRATION_MS, default 86400000)')
  .option('--metadata-snapshot-records <n>', 'snapshot the cluster metadata every N committed records (EDDY_METADATA_SNAPSHOT_RECORDS, default 1000)')
  .option('--broker-heartbeat-interval-ms <ms>', 'how often this node heartbeats to the active controller (EDDY_BROKER_HEARTBEAT_INTERVAL_MS, default 500)')
  .option('--broker-session-timeout-ms <ms>', 'the active controller fences a node not heard from this long (EDDY_BROKER_SESSION_TIMEOUT_MS, default 9000)')
  .option('--node-id <n>', "this node's id in the cluster, a whole number from 0; required with --controller-quorum-voters (EDDY_NODE_ID, default 1)")
  .option(
    '--controller-quorum-voters <list>',
    'the voters of the metadata quorum, e.g. 1@ws://gw-a:9400,2@ws://gw-b:9400 (their --port); a node not listed is an observer (EDDY_CONTROLLER_QUORUM_VOTERS, default: this node alone)',
  )
  .option('--cluster-id <id>', 'the cluster id a new data directory takes, the same on every node of a cluster; required with more than one voter. Make one: eddy cluster new-id (EDDY_CLUSTER_ID)')
  .option('--cluster-secret-file <file>', 'shared secret peers authenticate with, at least 16 bytes; required with more than one voter. Make one: head -c 32 /dev/urandom | base64 > /etc/eddy/cluster.secret && chmod 600 /etc/eddy/cluster.secret (EDDY_CLUSTER_SECRET_FILE)')
  .option('--peer-path <path>', 'peer links share the WebSocket port (--port) under this path; clients use any other (EDDY_PEER_PATH, default /eddy-peer)')
  .action(async (opts: Record<string, string | string[] | boolean | undefined>) => {
    // commander sets mqtt: true unless --no-mqtt (http likewise); only "false" is a choice the operator made.
    const config = loadConfig({
      flags: { ...opts, mqtt: opts.mqtt === false ? false : undefined, http: opts.http === false ? false : undefined },
      env: process.env,
    });
    // The node's modules (SQLite, the MQTT broker, the server) load only for `start`: the client
    // commands start in a fraction of the time without them.
    const { start } = await import('./start.js');
    await start(config, (line) => process.stdout.write(`${line}\n`));
  });

const print = (line: string) => process.stdout.write(`${line}\n`);
registerTopics(program, print);
registerProduce(program, (line) => process.stderr.write(`${line}\n`));
registerConsume(program, print);
registerGroups(program, print);
registerCluster(program, print);

// No top-level await: the packaged executable runs this file as CommonJS.
program.parseAsync(process.argv).catch((err: unknown) => {
  // One clear line (or list) for the operator, a non-zero exit, no stack trace.
  const message = err instanceof ConfigError ? err.message : isEddyError(err) ? err.message : `eddy: ${(err as Error).message}`;
  process.stderr.write(`eddy: ${message.replace(/^eddy: /, '')}\n`);
  // Exit now: a failed command must not hang on whatever it had opened (sockets, timers).
  process.exit(1);
});
