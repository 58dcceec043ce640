/**
 * /metrics of a real node, scraped over HTTP after real clients produced, fetched, committed and
 * published: every value asserted is the exact number the operations imply.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startMqtt } from '../../app/start-mqtt.js';
import { Admin, Consumer, Producer } from '../../gateway/client/index.js';
import { Apis } from '../../protocol/apis/index.js';
import { encodeRecordBatch } from '../../protocol/record-batch.js';
import { pollN, waitFor } from '../helpers/client.js';
import { scrape } from '../helpers/metrics.js';
import { testNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

const utf8 = new TextEncoder();
const tp = (topic: string, partition: number) => ({ topic, partition: String(partition) });

describe('GET /metrics', () => {
  it('reports each partition\'s offsets and size, and counts records and bytes produced and fetched', async () => {
    const node = await testNode(tempDir(), 0, { httpPort: 0 });
    const admin = new Admin({ server: node.url });
    await admin.createTopics([{ name: 'temps', partitions: 2 }]);
    const producer = new Producer({ server: node.url, acks: 'all', lingerMs: 0 });
    for (let i = 0; i < 5; i++) await producer.send({ topic: 'temps', partition: 0, value: `p0-${i}` });
    await producer.sendBatch([0, 1, 2].map((i) => ({ topic: 'temps', partition: 1, value: `p1-${i}` })));
    await producer.close();

    let m = await scrape(node.httpUrl!);
    expect(m.value('eddy_partition_log_end_offset', tp('temps', 0))).toBe(5);
    expect(m.value('eddy_partition_log_end_offset', tp('temps', 1))).toBe(3);
    expect(m.value('eddy_partition_high_watermark', tp('temps', 0))).toBe(5);
    expect(m.value('eddy_partition_high_watermark', tp('temps', 1))).toBe(3);
    expect(m.value('eddy_partition_log_start_offset', tp('temps', 0))).toBe(0);
    const size0 = node.topics.partition('temps', 0).sizeBytes;
    const size1 = node.topics.partition('temps', 1).sizeBytes;
    expect(size0).toBeGreaterThan(0);
    expect(m.value('eddy_partition_size_bytes', tp('temps', 0))).toBe(size0);
    expect(m.value('eddy_partition_size_bytes', tp('temps', 1))).toBe(size1);
    expect(m.value('eddy_produce_records_total', { topic: 'temps' })).toBe(8);
    // The stored batches are the bytes the producer sent.
    expect(m.value('eddy_produce_bytes_total', { topic: 'temps' })).toBe(size0 + size1);
    expect(m.value('eddy_fetch_records_total', { topic: 'temps' })).toBeUndefined();

    const consumer = new Consumer({ server: node.url, autoOffsetReset: 'earliest' });
    consumer.assign([0, 1].map((partition) => ({ topic: 'temps', partition })));
    await pollN(consumer, 8);
    await consumer.close();
    m = await scrape(node.httpUrl!);
    expect(m.value('eddy_fetch_records_total', { topic: 'temps' })).toBe(8);
    expect(m.value('eddy_fetch_bytes_total', { topic: 'temps' })).toBe(size0 + size1);
    expect(m.value('eddy_requests_total', { api: 'CreateTopics', error: 'NONE' })).toBe(1);
    expect(m.value('eddy_requests_total', { api: 'Produce', error: 'NONE' })).toBe(6); // five sends, one batch
    expect(m.value('eddy_build_info', { version: '0.1.0', node_id: '0' })).toBe(1);
    // Process metrics come with the HTTP listener, in this node's registry.
    expect(m.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.text).toMatch(/^# HELP eddy_partition_high_watermark /m);
    expect(m.text).toMatch(/^# TYPE eddy_produce_records_total counter$/m);
    await admin.close();
  });

  it('counts requests by API and result, and produce partitions refused by error', async () => {
    const node = await testNode(tempDir(), 0, { httpPort: 0 });
    const c = await RawClient.connect(node.url);
    const records = encodeRecordBatch([{ value: utf8.encode('x') }]);
    const r = await c.call(Apis.Produce.key, { acks: -1, timeoutMs: 1000, topics: [{ name: 'nowhere', partitions: [{ partition: 0, records }] }] });
    expect(r.topics[0].partitions[0].errorCode).toBe(3);
    const unknown = await c.send(999, new Uint8Array(0));
    expect(unknown.header.errorCode).not.toBe(0);
    c.close();
    const m = await scrape(node.httpUrl!);
    // The request succeeded as a whole; its one partition failed.
    expect(m.value('eddy_requests_total', { api: 'Produce', error: 'NONE' })).toBe(1);
    expect(m.value('eddy_partition_errors_total', { api: 'Produce', error: 'UNKNOWN_TOPIC_OR_PARTITION' })).toBe(1);
    expect(m.value('eddy_requests_total', { api: 'unknown', error: 'UNSUPPORTED_VERSION' })).toBe(1);
    expect(m.value('eddy_produce_records_total', { topic: 'nowhere' })).toBeUndefined();
  });

  it('reports consumer group lag (high watermark − committed offset) and members, computed when scraped', async () => {
    const node = await testNode(tempDir(), 0, { httpPort: 0 });
    const admin = new Admin({ server: node.url });
    await admin.createTopics([{ name: 'orders', partitions: 2 }]);
    const producer = new Producer({ server: node.url, acks: 'all', lingerMs: 0 });
    await producer.sendBatch([0, 1, 2, 3, 4].map((i) => ({ topic: 'orders', partition: 0, value: `o${i}` })));
    await producer.sendBatch([0, 1, 2].map((i) => ({ topic: 'orders', partition: 1, value: `o${i}` })));

    // A group with committed offsets and no members.
    await admin.resetOffsets('billing', [
      { topic: 'orders', partition: 0, offset: 2 },
      { topic: 'orders', partition: 1, offset: 3 },
    ]);
    // A live group that has processed part of partition 0.
    const consumer = new Consumer({ server: node.url, groupId: 'dashboard', autoOffsetReset: 'earliest', autoCommit: false });
    await consumer.subscribe(['orders']);
    await pollN(consumer, 8);
    await consumer.commit([{ topic: 'orders', partition: 0, offset: 4 }]);

    let m = await scrape(node.httpUrl!);
    expect(m.value('eddy_consumer_group_lag', { group: 'billing', ...tp('orders', 0) })).toBe(3);
    expect(m.value('eddy_consumer_group_lag', { group: 'billing', ...tp('orders', 1) })).toBe(0);
    expect(m.value('eddy_consumer_group_committed_offset', { group: 'billing', ...tp('orders', 0) })).toBe(2);
    expect(m.value('eddy_consumer_group_lag', { group: 'dashboard', ...tp('orders', 0) })).toBe(1);
    expect(m.value('eddy_consumer_group_lag', { group: 'dashboard', ...tp('orders', 1) })).toBeUndefined(); // nothing committed there
    expect(m.value('eddy_consumer_group_members', { group: 'dashboard' })).toBe(1);
    expect(m.value('eddy_consumer_group_members', { group: 'billing' })).toBe(0);
    // The same numbers `eddy groups describe` shows.
    const described = await admin.describeGroup('billing');
    expect(described.partitions.map((p) => [p.partition, p.lag])).toEqual([[0, 3], [1, 0]]);

    // More records: the lag grows with the high watermark, without any commit.
    await producer.sendBatch([5, 6].map((i) => ({ topic: 'orders', partition: 0, value: `o${i}` })));
    m = await scrape(node.httpUrl!);
    expect(m.value('eddy_consumer_group_lag', { group: 'dashboard', ...tp('orders', 0) })).toBe(3);
    expect(m.value('eddy_consumer_group_lag', { group: 'billing', ...tp('orders', 0) })).toBe(5);

    await consumer.close();
    await producer.close();
    await admin.close();
    m = await scrape(node.httpUrl!);
    expect(m.value('eddy_consumer_group_members', { group: 'dashboard' })).toBe(0);
  });

  it('counts MQTT messages received, stored and dropped by reason, from a real MQTT client', async () => {
    const { logger } = captureLogger();
    const node = await testNode(tempDir(), 0, { httpPort: 0, logger });
    const bridge = await startMqtt(node, {
      port: 0,
      logger,
      rules: [
        { filter: 'sensors/+/temp', topic: 'temps', key: { from: 'level', index: 2 } },
        { filter: 'events/#', topic: 'events', key: { from: 'json', field: 'device' } },
      ],
    });
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${bridge.port}`, { clientId: 'press-7', reconnectPeriod: 0, protocolVersion: 4 });
    for (let i = 0; i < 3; i++) await device.publishAsync('sensors/press7/temp', `${80 + i}`, { qos: 1 });
    await device.publishAsync('other/thing', 'no rule for this', { qos: 1 });
    await device.publishAsync('events/door', 'not json', { qos: 1 });
    await device.publishAsync('events/door', '{"no-device": 1}', { qos: 1 });
    await device.endAsync();

    const m = await scrape(node.httpUrl!);
    expect(m.value('eddy_mqtt_messages_received_total')).toBe(6);
    expect(m.value('eddy_mqtt_messages_stored_total')).toBe(3);
    expect(m.value('eddy_mqtt_messages_dropped_total', { reason: 'unmapped' })).toBe(1);
    expect(m.value('eddy_mqtt_messages_dropped_total', { reason: 'bad_json' })).toBe(1);
    expect(m.value('eddy_mqtt_messages_dropped_total', { reason: 'missing_key' })).toBe(1);
    expect(m.value('eddy_mqtt_messages_not_acknowledged_total')).toBe(0);
    expect(m.value('eddy_partition_log_end_offset', tp('temps', 0))).toBe(3);
    await bridge.close();
  });

  it('counts MQTT messages the log refuses: QoS 0 lost, QoS 1 not acknowledged', async () => {
    const { logger } = captureLogger();
    // A budget below what the empty store already uses: the disk guard refuses every record.
    const node = await testNode(tempDir(), 0, { httpPort: 0, logger, maxDiskBytes: 16 * 1024, maxDatabaseBytes: 1 << 30 });
    const bridge = await startMqtt(node, { port: 0, logger });
    const url = `mqtt://127.0.0.1:${bridge.port}`;
    const device = await mqtt.connectAsync(url, { clientId: 'qos0', reconnectPeriod: 0, protocolVersion: 4 });
    await device.publishAsync('plant/a', 'lost', { qos: 0 });
    await waitFor(() => bridge.listener.stats.qos0Lost === 1, 'the QoS 0 refusal');
    await device.endAsync();
    const acker = await mqtt.connectAsync(url, { clientId: 'qos1', reconnectPeriod: 0, protocolVersion: 4 });
    // No PUBACK: the listener closes the connection and the device would retransmit.
    const closed = new Promise<void>((r) => acker.once('close', () => r()));
    acker.publish('plant/b', 'refused', { qos: 1 });
    await closed;
    acker.end(true);

    const m = await scrape(node.httpUrl!);
    expect(m.value('eddy_mqtt_messages_received_total')).toBe(2);
    expect(m.value('eddy_mqtt_messages_stored_total')).toBe(0);
    expect(m.value('eddy_mqtt_messages_dropped_total', { reason: 'qos0_refused' })).toBe(1);
    expect(m.value('eddy_mqtt_messages_not_acknowledged_total')).toBe(1);
    expect(m.value('eddy_disk_refusing_records')).toBe(1);
    expect(m.value('eddy_disk_budget_bytes')).toBe(16 * 1024);
    expect(m.value('eddy_disk_store_bytes')).toBeGreaterThan(16 * 1024);
    await bridge.close();
  });

  it('keeps separate counts for two nodes in one process (a registry per node)', async () => {
    const a = await testNode(tempDir(), 0, { httpPort: 0 });
    const b = await testNode(tempDir(), 0, { httpPort: 0 });
    const admin = new Admin({ server: a.url });
    await admin.createTopics([{ name: 'only-a', partitions: 1 }]);
    const producer = new Producer({ server: a.url, acks: 'all' });
    await producer.send({ topic: 'only-a', value: 'x' });
    await producer.close();
    await admin.close();
    expect((await scrape(a.httpUrl!)).value('eddy_produce_records_total', { topic: 'only-a' })).toBe(1);
    const mb = await scrape(b.httpUrl!);
    expect(mb.value('eddy_produce_records_total', { topic: 'only-a' })).toBeUndefined();
    expect(mb.value('eddy_partition_log_end_offset', tp('only-a', 0))).toBeUndefined();
  });
});
