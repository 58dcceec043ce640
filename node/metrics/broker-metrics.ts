/**
 * Counters the request path increments: records and bytes produced and fetched per topic,
 * requests by API and result, partition errors by API and error. They sit on the hot path, so
 * each label combination's child is looked up once and cached: an increment is a Map lookup and
 * an addition, no label hashing. Only topics that exist get a series (counted after a successful
 * append or read), so hostile requests cannot grow the label set.
 */
import { Counter, type Registry } from 'prom-client';
import { errorNameForCode } from '../../protocol/errors.js';
import { cached } from './cached-counter.js';

export interface BrokerMetrics {
  /** Records appended by a produce (retried duplicates excluded), and their batch bytes. */
  produced(topic: string, records: number, bytes: number): void;
  /** Records and bytes returned by a fetch (whole batches, as sent). */
  fetched(topic: string, records: number, bytes: number): void;
  /** One request answered: its API name and the error of the request as a whole (`NONE` when it succeeded). */
  request(api: string, errorName: string): void;
  /** One partition of a produce or fetch answered with an error code. */
  partitionError(api: string, errorCode: number): void;
}

export const NO_BROKER_METRICS: BrokerMetrics = {
  produced() {},
  fetched() {},
  request() {},
  partitionError() {},
};

export function createBrokerMetrics(registry: Registry): BrokerMetrics {
  const registers = [registry];
  const perTopic = (name: string, help: string) => cached(new Counter({ name, help, labelNames: ['topic'], registers }), (topic) => [topic]);
  const producedRecords = perTopic('eddy_produce_records_total', 'Records appended by produce requests, per topic');
  const producedBytes = perTopic('eddy_produce_bytes_total', 'Bytes of record batches appended by produce requests, per topic');
  const fetchedRecords = perTopic('eddy_fetch_records_total', 'Records returned by fetch requests, per topic (whole batches, as sent)');
  const fetchedBytes = perTopic('eddy_fetch_bytes_total', 'Bytes of record batches returned by fetch requests, per topic');
  const SEP = '\u0000';
  const requests = cached(
    new Counter({ name: 'eddy_requests_total', help: 'Requests answered, by API and the error of the request as a whole (NONE: it succeeded; partition errors are counted apart)', labelNames: ['api', 'error'], registers }),
    (key) => key.split(SEP),
  );
  const partitionErrors = cached(
    new Counter({ name: 'eddy_partition_errors_total', help: 'Partitions of produce and fetch requests answered with an error, by API and error', labelNames: ['api', 'error'], registers }),
    (key) => key.split(SEP),
  );
  return {
    produced(topic, records, bytes) {
      producedRecords(topic).inc(records);
      producedBytes(topic).inc(bytes);
    },
    fetched(topic, records, bytes) {
      fetchedRecords(topic).inc(records);
      fetchedBytes(topic).inc(bytes);
    },
    request(api, errorName) {
      requests(`${api}${SEP}${errorName}`).inc();
    },
    partitionError(api, errorCode) {
      partitionErrors(`${api}${SEP}${errorNameForCode(errorCode)}`).inc();
    },
  };
}
