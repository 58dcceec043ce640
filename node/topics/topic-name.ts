import { EddyError } from '../../protocol/errors.js';

/** Kafka's rule: 1-249 characters from [a-zA-Z0-9._-], and not "." or "..". */
const LEGAL = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

/**
 * The KRaft metadata log's partition (`__cluster_metadata`-0). It is not a topic of the topic
 * manager: the quorum driver owns it on the log store, so it is in no topic listing, no
 * retention or compaction run, and, being internal, refused to client producers.
 */
export const CLUSTER_METADATA_TOPIC = '__cluster_metadata';

/** Internal topics (consumer offsets, the metadata log) start with "__". */
export function isInternalTopic(name: string): boolean {
  return name.startsWith('__');
}

/** Throws INVALID_TOPIC_EXCEPTION with the reason. `internal` allows the "__" prefix. */
export function validateTopicName(name: string, opts: { internal?: boolean } = {}): void {
  const bad = (why: string): never => {
    throw new EddyError('INVALID_TOPIC_EXCEPTION', `topic name "${name}" ${why}`);
  };
  if (name.length === 0) bad('is empty');
  if (name.length > MAX_TOPIC_NAME_LENGTH) bad(`is ${name.length} characters; the limit is ${MAX_TOPIC_NAME_LENGTH}`);
  if (name === '.' || name === '..') bad('is reserved');
  if (!LEGAL.test(name)) bad('may only contain letters, digits, ".", "_" and "-"');
  if (isInternalTopic(name) && !opts.internal) bad('starts with "__", which is reserved for internal topics');
}
