import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startMqtt } from '../../app/start-mqtt.js';
import { startNode } from '../../app/start-node.js';
import { decodeRecords } from '../../protocol/record-batch.js';
import { LogStore } from '../../node/storage/log-store.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

describe('MQTT when the log refuses', () => {
  it('does not acknowledge QoS 1 publishes the log cannot take, loses nothing acknowledged, and takes them again once space is freed', async () => {
    const { logger, lines } = captureLogger();
    const dataDir = tempDir();
    // A real SQLITE_FULL: the log file may not grow past 600 KB.
    const node = await startNode({ dataDir, logger, maxDatabaseBytes: 600 * 1024 });
    const bridge = await startMqtt(node, { port: 0, logger });
    const url = `mqtt://127.0.0.1:${bridge.port}`;
    const payload = 'x'.repeat(4000);
    const acked: number[] = [];
    let refusedAt = -1;
    let device = await mqtt.connectAsync(url, { clientId: 'filler', reconnectPeriod: 0, protocolVersion: 4 });
    const closed = new Promise<boolean>((r) => device.once('close', () => r(false)));
    for (let i = 0; i < 1000; i++) {
      const ok = await Promise.race([device.publishAsync('fill/up', `${i}:${payload}`, { qos: 1 }).then(() => true, () => false), closed]);
      if (!ok) {
        refusedAt = i;
        break;
      }
      acked.push(i);
    }
    expect(refusedAt).toBeGreaterThan(10); // it filled up after taking a good number
    expect(bridge.listener.stats.notAcknowledged).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => /MQTT publish not acknowledged: the log refused it; the device will retransmit/.test(l.msg))).toBe(true);

    // Everything acknowledged is in the log, in order; the refused one is not.
    const log = node.topics.partition('mqtt', 0);
    const seqs = log.read(0, 1 << 26).batches.flatMap((b) => decodeRecords(b).map((r) => Number(new TextDecoder().decode(r.value!).split(':')[0])));
    expect(seqs).toEqual(acked);

    // Retention frees space; the device reconnects and its retransmission is taken.
    await log.deleteBefore(log.logEndOffset);
    device.end(true);
    device = await mqtt.connectAsync(url, { clientId: 'filler', reconnectPeriod: 0, protocolVersion: 4 });
    await device.publishAsync('fill/up', `${refusedAt}:${payload}`, { qos: 1 });
    expect(log.logEndOffset).toBe(acked.length + 1);
    await device.endAsync();
    await bridge.close();
    await node.close();
  }, 60_000);
});

describe('MQTT authentication hook', () => {
  it('refuses a bad user name or password with CONNACK 4 and accepts a good one', async () => {
    const node = await startNode({ dataDir: tempDir() });
    const bridge = await startMqtt(node, {
      port: 0,
      logger: captureLogger().logger,
      authenticate: (_clientId, username, password) => username === 'sensor' && password?.toString() === 'secret',
    });
    const url = `mqtt://127.0.0.1:${bridge.port}`;
    await expect(mqtt.connectAsync(url, { username: 'sensor', password: 'wrong', reconnectPeriod: 0, protocolVersion: 4 })).rejects.toMatchObject({ code: 4 });
    const ok = await mqtt.connectAsync(url, { username: 'sensor', password: 'secret', reconnectPeriod: 0, protocolVersion: 4 });
    await ok.publishAsync('auth/ok', 'in', { qos: 1 });
    expect(node.topics.partition('mqtt', 0).logEndOffset).toBe(1);
    await ok.endAsync();
    await bridge.close();
    await node.close();
  });
});
