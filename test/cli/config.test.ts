import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../node/config.js';
import { VERSION } from '../../node/version.js';
import { problems } from '../helpers/config-problems.js';
import { tempDir } from '../helpers/tmp.js';


describe('config', () => {
  it('uses embedded defaults', () => {
    expect(loadConfig()).toEqual({
      dataDir: './eddy-data',
      host: '127.0.0.1',
      port: 9400,
      sync: { kind: 'always' },
      logLevel: 'info',
      logFormat: 'auto',
      maxFrameBytes: 8 * 1024 * 1024,
      httpPort: 9401,
      mqttPort: 1883,
      mqttRules: null,
      mqttDeadLetterTopic: null,
      mqttBridges: [],
      mqttAutoCreateTopics: true,
      maxDiskBytes: null,
      retentionCheckIntervalMs: 30_000,
      producerIdExpirationMs: 86_400_000,
      metadataSnapshotRecords: 1000,
      brokerHeartbeatIntervalMs: 500,
      brokerSessionTimeoutMs: 9_000,
      nodeId: 1,
      controllerQuorumVoters: null,
      clusterId: null,
      clusterSecretFile: null,
      clusterSecret: null,
      peerPath: '/eddy-peer',
    });
    expect(loadConfig({ env: { EDDY_MQTT_AUTO_CREATE_TOPICS: 'false' } }).mqttAutoCreateTopics).toBe(false);
  });

  it('builds MQTT bridges from flags or the config file, with a stable default client id, and checks them', () => {
    const one = loadConfig({ flags: { mqttBridge: 'mqtt://broker:1883', mqttBridgeTopic: ['sensors/#', 'alarms/+'] } });
    expect(one.mqttBridges).toEqual([{ url: 'mqtt://broker:1883', topics: ['sensors/#', 'alarms/+'], clientId: expect.stringMatching(/^eddy-.+-bridge-0$/) }]);
    expect(loadConfig({ flags: { mqttBridge: 'mqtt://b:1883' } }).mqttBridges[0]!.topics).toEqual(['#']);
    const file = join(tempDir(), 'eddy.json');
    writeFileSync(file, JSON.stringify({ 'mqtt-bridges': [{ url: 'mqtt://a:1883', topics: ['x/#'], 'client-id': 'gw-7' }, { url: 'http://b', topics: [] }] }));
    const p = problems(() => loadConfig({ flags: { config: file } }));
    expect(p).toEqual([
      expect.stringMatching(/"mqtt-bridges"\[1\] in .*: url must look like mqtt:\/\/host:1883/),
      expect.stringMatching(/"mqtt-bridges"\[1\] in .*: topics must be a non-empty list/),
    ]);
    writeFileSync(file, JSON.stringify({ 'mqtt-bridges': [{ url: 'mqtt://a:1883', topics: ['x/#'], 'client-id': 'gw-7' }] }));
    expect(loadConfig({ flags: { config: file } }).mqttBridges).toEqual([{ url: 'mqtt://a:1883', topics: ['x/#'], clientId: 'gw-7' }]);
  });

  it('turns the MQTT listener off with --no-mqtt, and takes rules and a dead-letter topic from the file', () => {
    expect(loadConfig({ flags: { mqtt: false } }).mqttPort).toBeNull();
    expect(loadConfig({ env: { EDDY_MQTT_PORT: '1884' } }).mqttPort).toBe(1884);
    const file = join(tempDir(), 'eddy.json');
    const rules = [{ filter: 'sensors/+/temp', topic: 'temps', key: '{2}' }];
    writeFileSync(file, JSON.stringify({ 'mqtt-rules': rules, 'mqtt-dead-letter-topic': 'mqtt-dlq' }));
    expect(loadConfig({ flags: { config: file } })).toMatchObject({ mqttRules: rules, mqttDeadLetterTopic: 'mqtt-dlq' });
  });

  it('takes the health and metrics port from --http-port, EDDY_HTTP_PORT or the file, turns it off with --no-http, and checks it', () => {
    expect(loadConfig({ flags: { httpPort: '0' } }).httpPort).toBe(0);
    expect(loadConfig({ env: { EDDY_HTTP_PORT: '9500' } }).httpPort).toBe(9500);
    expect(loadConfig({ flags: { http: false }, env: { EDDY_HTTP_PORT: '9500' } }).httpPort).toBeNull();
    expect(loadConfig({ env: { EDDY_HTTP_PORT: 'off' } }).httpPort).toBeNull();
    const file = join(tempDir(), 'eddy.json');
    writeFileSync(file, JSON.stringify({ 'http-port': 'off' }));
    expect(loadConfig({ flags: { config: file } }).httpPort).toBeNull();
    writeFileSync(file, JSON.stringify({ 'http-port': 9402 }));
    expect(loadConfig({ flags: { config: file } }).httpPort).toBe(9402);
    expect(problems(() => loadConfig({ flags: { httpPort: 'metrics' } }))).toEqual([
      '--http-port = "metrics": must be a port number from 0 to 65535 (0 = any free port), or "off" (as --no-http)',
    ]);
    expect(problems(() => loadConfig({ env: { EDDY_MQTT_PORT: '70000' } }))).toEqual([
      'EDDY_MQTT_PORT = "70000": must be a port number from 0 to 65535 (0 = any free port), or "off" (as --no-mqtt)',
    ]);
  });

  it('refuses two listeners on one fixed port, but not two on port 0', () => {
    expect(problems(() => loadConfig({ flags: { port: '9400', httpPort: '9400' } }))).toEqual(['--port and --http-port are both 9400: each listener needs its own port']);
    expect(problems(() => loadConfig({ env: { EDDY_HTTP_PORT: '1883' } }))).toEqual(['--http-port and --mqtt-port are both 1883: each listener needs its own port']);
    expect(loadConfig({ flags: { port: '0', httpPort: '0', mqttPort: '0' } })).toMatchObject({ port: 0, httpPort: 0, mqttPort: 0 });
  });

  it('takes --log-format json, pretty or auto (the default: pretty on a terminal)', () => {
    expect(loadConfig({ flags: { logFormat: 'pretty' } }).logFormat).toBe('pretty');
    expect(loadConfig({ env: { EDDY_LOG_FORMAT: 'json' } }).logFormat).toBe('json');
    expect(problems(() => loadConfig({ env: { EDDY_LOG_FORMAT: 'text' } }))).toEqual([
      'EDDY_LOG_FORMAT = "text": must be json, pretty or auto (pretty when stderr is a terminal, else json)',
    ]);
  });

  it('layers flags over EDDY_* over the config file over defaults', () => {
    const file = join(tempDir(), 'eddy.json');
    writeFileSync(file, JSON.stringify({ port: 9500, 'data-dir': '/from/file', sync: 'interval:50', host: '0.0.0.0' }));
    const env = { EDDY_CONFIG: file, EDDY_DATA_DIR: '/from/env', EDDY_LOG_LEVEL: 'warn' };
    expect(loadConfig({ env, flags: { sync: 'always' } })).toMatchObject({
      dataDir: '/from/env',
      port: 9500,
      host: '0.0.0.0',
      sync: { kind: 'always' },
      logLevel: 'warn',
    });
    expect(loadConfig({ flags: { config: file, port: '0' } })).toMatchObject({ port: 0, dataDir: '/from/file' });
  });

  it('reports every bad field at once, naming where each value came from', () => {
    const p = problems(() => loadConfig({ flags: { sync: 'often', logLevel: 42, port: '99999' }, env: { EDDY_DATA_DIR: ' ' } }));
    expect(p).toHaveLength(4);
    expect(p[0]).toMatch(/^EDDY_DATA_DIR = " ": must be a directory path/);
    expect(p[1]).toMatch(/^--port = "99999": must be a whole number from 0 to 65535/);
    expect(p[2]).toMatch(/^--sync = "often": .*use "always" or "interval:<ms>"/);
    expect(p[3]).toMatch(/^--log-level = 42: expected text, got the number 42/);
  });

  it('takes --max-disk-bytes in bytes or with a unit, from a flag, EDDY_MAX_DISK_BYTES or the file, and refuses nonsense', () => {
    expect(loadConfig({ flags: { maxDiskBytes: '1073741824' } }).maxDiskBytes).toBe(2 ** 30);
    expect(loadConfig({ flags: { maxDiskBytes: '2GiB' } }).maxDiskBytes).toBe(2 * 2 ** 30);
    expect(loadConfig({ env: { EDDY_MAX_DISK_BYTES: '500MB' } }).maxDiskBytes).toBe(500e6);
    expect(loadConfig({ env: { EDDY_MAX_DISK_BYTES: '1.5 gib' } }).maxDiskBytes).toBe(1.5 * 2 ** 30);
    const file = join(tempDir(), 'eddy.json');
    writeFileSync(file, JSON.stringify({ 'max-disk-bytes': 8e9, 'retention-check-interval-ms': 60000 }));
    expect(loadConfig({ flags: { config: file } })).toMatchObject({ maxDiskBytes: 8e9, retentionCheckIntervalMs: 60_000 });
    const p = problems(() =>
      loadConfig({ flags: { maxDiskBytes: 'abc', retentionCheckIntervalMs: '0' }, env: { EDDY_CONFIG: file } }),
    );
    expect(p).toEqual([
      '--max-disk-bytes = "abc": must be a size in bytes of at least 1 MiB: a whole number, or with a unit such as 500MB or 2GiB',
      '--retention-check-interval-ms = "0": must be a whole number from 100 to 86400000',
    ]);
    for (const bad of ['12 parsecs', '-5', '1000', '', '1e9']) {
      expect(problems(() => loadConfig({ flags: { maxDiskBytes: bad } }))[0], bad).toMatch(/^--max-disk-bytes = .*: must be a size in bytes/);
    }
  });

  it('takes --producer-id-expiration-ms (default one day, Kafka\'s) and refuses values out of range', () => {
    expect(loadConfig({}).producerIdExpirationMs).toBe(86_400_000);
    expect(loadConfig({ env: { EDDY_PRODUCER_ID_EXPIRATION_MS: '3600000' } }).producerIdExpirationMs).toBe(3_600_000);
    expect(problems(() => loadConfig({ flags: { producerIdExpirationMs: '5' } }))).toEqual([
      '--producer-id-expiration-ms = "5": must be a whole number from 1000 to 31536000000',
    ]);
  });

  it('takes --metadata-snapshot-records (default 1000) and refuses values out of range', () => {
    expect(loadConfig({}).metadataSnapshotRecords).toBe(1000);
    expect(loadConfig({ env: { EDDY_METADATA_SNAPSHOT_RECORDS: '50' } }).metadataSnapshotRecords).toBe(50);
    expect(problems(() => loadConfig({ flags: { metadataSnapshotRecords: '5' } }))).toEqual([
      '--metadata-snapshot-records = "5": must be a whole number from 10 to 10000000',
    ]);
  });

  it('takes the broker heartbeat interval and session timeout (Kafka\'s session default) and refuses a session shorter than two heartbeats', () => {
    expect(loadConfig({})).toMatchObject({ brokerHeartbeatIntervalMs: 500, brokerSessionTimeoutMs: 9_000 });
    expect(loadConfig({ env: { EDDY_BROKER_HEARTBEAT_INTERVAL_MS: '200', EDDY_BROKER_SESSION_TIMEOUT_MS: '1500' } })).toMatchObject({ brokerHeartbeatIntervalMs: 200, brokerSessionTimeoutMs: 1500 });
    expect(problems(() => loadConfig({ flags: { brokerHeartbeatIntervalMs: '1000', brokerSessionTimeoutMs: '1500' } }))).toEqual([
      '--broker-session-timeout-ms (1500) must be at least twice --broker-heartbeat-interval-ms (1000): a live broker would be fenced whenever one heartbeat is late',
    ]);
    expect(problems(() => loadConfig({ flags: { brokerSessionTimeoutMs: '5' } }))).toEqual(['--broker-session-timeout-ms = "5": must be a whole number from 100 to 600000']);
  });

  it('refuses a config file with wrong types, unknown keys, bad JSON, or that is missing', () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ port: 'nine thousand', 'log-level': ['info'], 'data-dirr': '/x' }));
    const p = problems(() => loadConfig({ flags: { config: bad } }));
    expect(p).toContainEqual(expect.stringMatching(/unknown key "data-dirr"/));
    expect(p).toContainEqual(expect.stringMatching(/^"port" in .*bad.json = "nine thousand": must be a whole number/));
    expect(p).toContainEqual(expect.stringMatching(/^"log-level" in .*: expected text, a number or true\/false, got object/));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ port: 1 ');
    expect(problems(() => loadConfig({ flags: { config: broken } }))[0]).toMatch(/broken.json: .*JSON/);
    expect(problems(() => loadConfig({ flags: { config: join(dir, 'none.json') } }))[0]).toMatch(/none.json: not found/);
    writeFileSync(broken, '[1,2]');
    expect(problems(() => loadConfig({ flags: { config: broken } }))[0]).toMatch(/must hold a JSON object/);
  });

  it('keeps VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
