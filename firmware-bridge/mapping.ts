/**
 * MQTT → Eddy mapping: which Eddy topic an MQTT publish goes to, and which record key it carries.
 *
 * Pure: no I/O, no clock. The MQTT listener builds one TopicMapper at start-up from the checked
 * config (parseMappingRules) and calls map() per message. Filter matching follows MQTT 3.1.1 §4.7.
 */
import { isEddyError } from '../protocol/errors.js';
import { validateTopicName } from '../node/topics/topic-name.js';

export interface MqttMessage {
  /** MQTT topic name, e.g. "sensors/dev42/temp". */
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** null for messages from a bridged broker. */
  clientId: string | null;
}

export type KeySpec =
  | { from: 'topic' }
  | { from: 'level'; index: number }
  | { from: 'json'; field: string }
  | { from: 'clientId' }
  | { from: 'none' };

export interface MappingRule {
  /** MQTT topic filter with + and # wildcards. */
  filter: string;
  /** Eddy topic the message goes to. */
  topic: string;
  key: KeySpec;
  /** Partitions when the Eddy topic is auto-created (default decided by the caller). */
  partitions?: number;
}

export type MapResult =
  | { ok: true; topic: string; key: Uint8Array | null; rule: MappingRule }
  | { ok: false; reason: 'unmapped' | 'bad-json' | 'missing-key'; detail: string };

/** Everything to the "mqtt" topic, keyed by MQTT topic so each sensor stream stays in order. */
export const DEFAULT_RULES: readonly MappingRule[] = Object.freeze([
  Object.freeze({ filter: '#', topic: 'mqtt', key: Object.freeze({ from: 'topic' }) as KeySpec }),
]);

/** Prefix for problem paths: the rules live under "mqtt.rules" in the config file. */
const CONFIG_PATH = 'mqtt-rules';
/** §1.5.3: topic names and filters are UTF-8 strings of at most 65535 bytes. */
const MAX_FILTER_BYTES = 65_535;

const utf8 = new TextEncoder();
// fatal: a payload that is not valid UTF-8 is not JSON either (bad-json), never mojibake keys.
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------------
// Filters

/** A filter split into levels once, so matching is string compares with no regex or split. */
interface CompiledFilter {
  readonly levels: readonly string[];
  /** §4.7.2: a first-level wildcard must not match topics starting with "$". */
  readonly wildcardFirst: boolean;
}

/** Why `filter` is not a valid MQTT topic filter, or null when it is. */
function filterProblem(filter: string): string | null {
  if (filter.length === 0) return 'must not be empty (use "#" to match every topic)';
  if (filter.includes('\u0000')) return 'must not contain the null character U+0000';
  if (utf8.encode(filter).length > MAX_FILTER_BYTES) return `must be at most ${MAX_FILTER_BYTES} bytes of UTF-8`;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level === '#' && i !== levels.length - 1) {
      return `"${filter}": "#" must be the last level (e.g. "sensors/#")`;
    }
    if (level !== '+' && level !== '#' && (level.includes('+') || level.includes('#'))) {
      return `"${filter}": level "${level}" mixes a wildcard with other characters; "+" and "#" must be a whole level (e.g. "sensors/+/temp")`;
    }
  }
  return null;
}

function compileFilter(filter: string): CompiledFilter {
  const levels = filter.split('/');
  return { levels, wildcardFirst: levels[0] === '+' || levels[0] === '#' };
}

/** A topic name a client may publish to: non-empty and wildcard-free (§4.7.1, §4.7.3). */
function isPublishableTopic(topic: string): boolean {
  return topic.length > 0 && !topic.includes('+') && !topic.includes('#');
}

/** Walks filter levels against the topic string in place; no per-call allocation. */
function matchCompiled(f: CompiledFilter, topic: string): boolean {
  if (f.wildcardFirst && topic.charCodeAt(0) === 0x24 /* $ */) return false;
  const levels = f.levels;
  let pos = 0; // start of the current topic level; -1 once the topic's levels are used up
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    // "#" also matches the parent level: "sport/#" matches "sport" (§4.7.1.2).
    if (level === '#') return true;
    if (pos < 0) return false;
    const slash = topic.indexOf('/', pos);
    const end = slash < 0 ? topic.length : slash;
    if (level !== '+' && (end - pos !== level.length || !topic.startsWith(level, pos))) return false;
    pos = slash < 0 ? -1 : slash + 1;
  }
  return pos < 0;
}

/**
 * MQTT 3.1.1 §4.7 topic filter matching. An invalid filter (e.g. "sport+") or a topic name no
 * client may publish to (empty, or containing a wildcard) matches nothing.
 */
export function matchesFilter(filter: string, topic: string): boolean {
  if (filterProblem(filter) !== null || !isPublishableTopic(topic)) return false;
  return matchCompiled(compileFilter(filter), topic);
}

// ---------------------------------------------------------------------------------------------
// Rule checking (shared by parseMappingRules and the TopicMapper constructor)

const RULE_FIELDS = ['filter', 'topic', 'key', 'partitions'];
const KEY_FROMS = ['topic', 'level', 'json', 'clientId', 'none'];
const KEY_SHORTHANDS = '"topic", "clientId", "none", "{2}" (level 2) or "json:deviceId"';

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
}

function jsonFieldProblem(field: string): string | null {
  if (field.length === 0) return 'must name a payload field, e.g. "deviceId" or "meta.device"';
  if (field.split('.').some((s) => s.length === 0)) return `"${field}" has an empty path segment; use e.g. "meta.device"`;
  return null;
}

/** Checks a key spec (object form or string shorthand); pushes problems, returns it normalised. */
function checkKey(raw: unknown, path: string, problems: string[]): KeySpec | undefined {
  const before = problems.length;
  if (typeof raw === 'string') {
    if (raw === 'topic' || raw === 'clientId' || raw === 'none') return { from: raw };
    const level = /^\{(.*)\}$/.exec(raw);
    if (level) {
      const index = /^\d+$/.test(level[1] as string) ? Number(level[1]) : NaN;
      if (index >= 1 && Number.isSafeInteger(index)) return { from: 'level', index };
      problems.push(`${path}: level in "${raw}" must be a whole number ≥ 1, e.g. "{2}"`);
      return undefined;
    }
    if (raw.startsWith('json:')) {
      const field = raw.slice(5);
      const why = jsonFieldProblem(field);
      if (why) problems.push(`${path}: json field ${why}`);
      return why ? undefined : { from: 'json', field };
    }
    problems.push(`${path}: unknown key shorthand "${raw}"; use ${KEY_SHORTHANDS}`);
    return undefined;
  }
  if (!isObject(raw)) {
    problems.push(`${path}: must be ${KEY_SHORTHANDS}, or an object like {"from": "level", "index": 2}; got ${show(raw)}`);
    return undefined;
  }
  const from = raw.from;
  if (typeof from !== 'string' || !KEY_FROMS.includes(from)) {
    problems.push(`${path}.from: must be one of ${KEY_FROMS.map((f) => `"${f}"`).join(', ')}; got ${show(from)}`);
    return undefined;
  }
  const allowed = from === 'level' ? ['from', 'index'] : from === 'json' ? ['from', 'field'] : ['from'];
  for (const name of Object.keys(raw)) {
    if (!allowed.includes(name)) problems.push(`${path}.${name}: not a field of a "${from}" key (allowed: ${allowed.join(', ')})`);
  }
  if (from === 'level') {
    const index = raw.index;
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 1) {
      problems.push(`${path}.index: must be a whole number ≥ 1; got ${show(index)}`);
    }
  } else if (from === 'json') {
    const field = raw.field;
    const why = typeof field === 'string' ? jsonFieldProblem(field) : `must be a string; got ${show(field)}`;
    if (why) problems.push(`${path}.field: ${why}`);
  }
  if (problems.length > before) return undefined;
  if (from === 'level') return { from, index: raw.index as number };
  if (from === 'json') return { from, field: raw.field as string };
  return { from } as KeySpec;
}

/** Checks one rule; pushes "path.field: why" problems, returns it normalised when clean. */
function checkRule(raw: unknown, path: string, problems: string[]): MappingRule | undefined {
  if (!isObject(raw)) {
    problems.push(`${path}: must be an object like {"filter": "sensors/+/temp", "topic": "temps", "key": "{2}"}`);
    return undefined;
  }
  const before = problems.length;
  for (const name of Object.keys(raw)) {
    if (!RULE_FIELDS.includes(name)) problems.push(`${path}.${name}: unknown field (known: ${RULE_FIELDS.join(', ')})`);
  }
  const { filter, topic, partitions } = raw;
  if (typeof filter !== 'string') {
    problems.push(`${path}.filter: must be an MQTT topic filter string like "sensors/+/temp"; got ${show(filter)}`);
  } else {
    const why = filterProblem(filter);
    if (why) problems.push(`${path}.filter: ${why}`);
  }
  if (typeof topic !== 'string') {
    problems.push(`${path}.topic: must be an Eddy topic name string; got ${show(topic)}`);
  } else {
    try {
      validateTopicName(topic);
    } catch (err) {
      if (!isEddyError(err)) throw err;
      problems.push(`${path}.topic: ${err.detail}`);
    }
  }
  const key = checkKey(raw.key, `${path}.key`, problems);
  // A level the filter can never have is a config mistake, not a per-message surprise.
  if (key?.from === 'level' && typeof filter === 'string' && !filter.split('/').includes('#')) {
    const depth = filter.split('/').length;
    if (key.index > depth) {
      problems.push(`${path}.key: level ${key.index} is beyond filter "${filter}", which only matches topics of ${depth} level${depth === 1 ? '' : 's'}`);
    }
  }
  if (partitions !== undefined && (typeof partitions !== 'number' || !Number.isSafeInteger(partitions) || partitions < 1)) {
    problems.push(`${path}.partitions: must be a whole number ≥ 1; got ${show(partitions)}`);
  }
  if (problems.length > before || key === undefined) return undefined;
  const rule: MappingRule = { filter: filter as string, topic: topic as string, key };
  if (partitions !== undefined) rule.partitions = partitions as number;
  return rule;
}

/**
 * Validates rules from a JSON config file (the value of "mqtt.rules"). Throws an Error whose
 * message lists every problem, one per line, each naming the rule index and field, e.g.
 * `mqtt.rules[1].key.index: must be a whole number ≥ 1; got 0`. Keys may be objects or the
 * shorthands "topic", "clientId", "none", "{2}" (level 2), "json:deviceId", "json:meta.device".
 */
export function parseMappingRules(raw: unknown): MappingRule[] {
  const problems: string[] = [];
  const rules: MappingRule[] = [];
  if (!Array.isArray(raw)) {
    problems.push(`${CONFIG_PATH}: must be an array of rules like [{"filter": "sensors/+/temp", "topic": "temps", "key": "{2}"}]; got ${show(raw)}`);
  } else if (raw.length === 0) {
    // An empty list would silently drop every publish as unmapped.
    problems.push(`${CONFIG_PATH}: must hold at least one rule (leave it out to send every MQTT topic to "mqtt")`);
  } else {
    raw.forEach((r, i) => {
      const rule = checkRule(r, `${CONFIG_PATH}[${i}]`, problems);
      if (rule) rules.push(rule);
    });
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Mapping

type Extracted = { key: Uint8Array | null } | { reason: 'bad-json' | 'missing-key'; detail: string };

interface CompiledRule {
  readonly rule: MappingRule;
  readonly filter: CompiledFilter;
  /** Dotted JSON path split once; empty unless the key is a JSON field. */
  readonly path: readonly string[];
}

/** The 1-based level `index` of `topic`, or undefined when the topic has fewer levels. */
function topicLevel(topic: string, index: number): string | undefined {
  let start = 0;
  for (let n = 1; n < index; n++) {
    const slash = topic.indexOf('/', start);
    if (slash < 0) return undefined;
    start = slash + 1;
  }
  const end = topic.indexOf('/', start);
  return topic.slice(start, end < 0 ? topic.length : end);
}

function jsonKey(msg: MqttMessage, field: string, path: readonly string[]): Extracted {
  let value: unknown;
  try {
    value = JSON.parse(utf8Strict.decode(msg.payload));
  } catch {
    return { reason: 'bad-json', detail: `payload on MQTT topic "${msg.topic}" is not valid UTF-8 JSON; the rule keys by JSON field "${field}"` };
  }
  if (!isObject(value)) {
    return { reason: 'bad-json', detail: `payload on MQTT topic "${msg.topic}" is JSON but not an object; the rule keys by JSON field "${field}"` };
  }
  for (const segment of path) {
    // Own properties only: "constructor" or "__proto__" must not resolve through the prototype.
    if (!isObject(value) || !Object.hasOwn(value, segment)) {
      return { reason: 'missing-key', detail: `JSON payload on MQTT topic "${msg.topic}" has no field "${field}"` };
    }
    value = value[segment];
  }
  // JSON.parse already turned the number into a double, so ids above 2^53 lose digits; devices
  // should send such ids as strings.
  if (typeof value === 'string') return { key: utf8.encode(value) };
  if (typeof value === 'number') return { key: utf8.encode(JSON.stringify(value)) };
  const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  return { reason: 'missing-key', detail: `JSON field "${field}" on MQTT topic "${msg.topic}" is ${kind}, not a string or number` };
}

function extractKey(c: CompiledRule, msg: MqttMessage): Extracted {
  const spec = c.rule.key;
  switch (spec.from) {
    case 'topic':
      return { key: utf8.encode(msg.topic) };
    case 'none':
      return { key: null };
    case 'clientId':
      // An empty client id is as anonymous as none: keying by it would merge unrelated devices.
      if (msg.clientId === null || msg.clientId === '') {
        return { reason: 'missing-key', detail: `message on MQTT topic "${msg.topic}" has no client id (bridged or anonymous); the rule keys by clientId` };
      }
      return { key: utf8.encode(msg.clientId) };
    case 'level': {
      const level = topicLevel(msg.topic, spec.index);
      if (level === undefined) {
        return { reason: 'missing-key', detail: `MQTT topic "${msg.topic}" has no level ${spec.index}` };
      }
      return { key: utf8.encode(level) };
    }
    case 'json':
      return jsonKey(msg, spec.field, c.path);
  }
}

/** Maps MQTT publishes to Eddy topic and key. Rules are checked and compiled once, here. */
export class TopicMapper {
  private readonly compiled: readonly CompiledRule[];

  /** Throws an Error listing every problem (as parseMappingRules does) if a rule is invalid. */
  constructor(rules: readonly MappingRule[]) {
    const problems: string[] = [];
    rules.forEach((rule, i) => checkRule(rule, `rules[${i}]`, problems));
    if (problems.length > 0) throw new Error(problems.join('\n'));
    this.compiled = rules.map((rule) => ({
      rule,
      filter: compileFilter(rule.filter),
      path: rule.key.from === 'json' ? rule.key.field.split('.') : [],
    }));
  }

  /** First matching rule wins (rules in order). */
  map(msg: MqttMessage): MapResult {
    if (isPublishableTopic(msg.topic)) {
      for (const c of this.compiled) {
        if (!matchCompiled(c.filter, msg.topic)) continue;
        const out = extractKey(c, msg);
        if ('reason' in out) return { ok: false, reason: out.reason, detail: out.detail };
        return { ok: true, topic: c.rule.topic, key: out.key, rule: c.rule };
      }
    }
    return { ok: false, reason: 'unmapped', detail: `no mapping rule matches MQTT topic "${msg.topic}"` };
  }
}
