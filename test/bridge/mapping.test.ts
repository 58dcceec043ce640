import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RULES,
  matchesFilter,
  parseMappingRules,
  TopicMapper,
  type MapResult,
  type MappingRule,
  type MqttMessage,
} from '../../firmware-bridge/mapping.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function msg(topic: string, payload: string | Uint8Array = '', clientId: string | null = 'dev42'): MqttMessage {
  return { topic, payload: typeof payload === 'string' ? enc.encode(payload) : payload, qos: 1, retain: false, clientId };
}

/** The key as text, or the failure as "reason: detail", so expectations read plainly. */
function keyOf(r: MapResult): string | null {
  if (!r.ok) return `${r.reason}: ${r.detail}`;
  return r.key === null ? null : dec.decode(r.key);
}

function problemsOf(raw: unknown): string[] {
  try {
    parseMappingRules(raw);
  } catch (err) {
    return (err as Error).message.split('\n');
  }
  return [];
}

describe('matchesFilter (MQTT 3.1.1 §4.7)', () => {
  it('multi-level wildcard: sport/tennis/player1/#', () => {
    const f = 'sport/tennis/player1/#';
    expect(matchesFilter(f, 'sport/tennis/player1')).toBe(true);
    expect(matchesFilter(f, 'sport/tennis/player1/ranking')).toBe(true);
    expect(matchesFilter(f, 'sport/tennis/player1/score/wimbledon')).toBe(true);
    expect(matchesFilter(f, 'sport/tennis/player2')).toBe(false);
    expect(matchesFilter(f, 'sport/tennis')).toBe(false);
  });

  it('"sport/#" also matches the parent "sport"; "#" matches everything', () => {
    expect(matchesFilter('sport/#', 'sport')).toBe(true);
    expect(matchesFilter('sport/#', 'sport/')).toBe(true);
    expect(matchesFilter('sport/#', 'sports')).toBe(false);
    expect(matchesFilter('#', 'sport/tennis/player1')).toBe(true);
    expect(matchesFilter('#', '/')).toBe(true);
  });

  it('single-level wildcard: sport/tennis/+, sport/+', () => {
    expect(matchesFilter('sport/tennis/+', 'sport/tennis/player1')).toBe(true);
    expect(matchesFilter('sport/tennis/+', 'sport/tennis/player2')).toBe(true);
    expect(matchesFilter('sport/tennis/+', 'sport/tennis/player1/ranking')).toBe(false);
    expect(matchesFilter('sport/+', 'sport')).toBe(false);
    expect(matchesFilter('sport/+', 'sport/')).toBe(true); // "+" matches the empty level
    expect(matchesFilter('sport/+/player1', 'sport/tennis/player1')).toBe(true);
  });

  it('+/+, /+ and + against "/finance"', () => {
    expect(matchesFilter('+/+', '/finance')).toBe(true);
    expect(matchesFilter('/+', '/finance')).toBe(true);
    expect(matchesFilter('+', '/finance')).toBe(false);
    expect(matchesFilter('+', 'finance')).toBe(true);
  });

  it('topics starting with $ are not matched by a first-level wildcard (§4.7.2)', () => {
    expect(matchesFilter('#', '$SYS/broker/uptime')).toBe(false);
    expect(matchesFilter('+/monitor/Clients', '$SYS/monitor/Clients')).toBe(false);
    expect(matchesFilter('$SYS/#', '$SYS/monitor/Clients')).toBe(true);
    expect(matchesFilter('$SYS/monitor/+', '$SYS/monitor/Clients')).toBe(true);
    expect(matchesFilter('+/x', 'a$/x')).toBe(true); // only a leading $ is special
  });

  it('is exact and case-sensitive on literal levels', () => {
    expect(matchesFilter('sensors/dev42/temp', 'sensors/dev42/temp')).toBe(true);
    expect(matchesFilter('sensors/dev42/temp', 'Sensors/dev42/temp')).toBe(false);
    expect(matchesFilter('sensors/dev4/temp', 'sensors/dev42/temp')).toBe(false);
    expect(matchesFilter('sensors/dev42', 'sensors/dev42/temp')).toBe(false);
    expect(matchesFilter('sensors/dev42/temp/x', 'sensors/dev42/temp')).toBe(false);
  });

  it('invalid filters and unpublishable topic names match nothing', () => {
    expect(matchesFilter('sport+', 'sport+')).toBe(false);
    expect(matchesFilter('sport/#/ranking', 'sport/x/ranking')).toBe(false);
    expect(matchesFilter('sport/ten#', 'sport/ten#')).toBe(false);
    expect(matchesFilter('', '')).toBe(false);
    expect(matchesFilter('#', '')).toBe(false);
    expect(matchesFilter('#', 'a/+')).toBe(false);
  });

  // Levels never contain "/" and never a wildcard character (topic names may not).
  const level = fc.string({ maxLength: 6 }).filter((s) => !/[/+#\u0000]/.test(s));
  const topicLevels = fc
    .array(level, { minLength: 1, maxLength: 8 })
    .filter((ls) => ls.join('/').length > 0 && !ls[0]!.startsWith('$'));

  it('property: a topic with random levels made "+" and an optional "#" tail always matches', () => {
    fc.assert(
      fc.property(topicLevels, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), fc.option(fc.nat()), (ls, plus, cut) => {
        const levels = ls.map((l, i) => (plus[i] ? '+' : l));
        const filter = cut === null ? levels.join('/') : [...levels.slice(0, cut % (ls.length + 1)), '#'].join('/');
        expect(matchesFilter(filter, ls.join('/'))).toBe(true);
      }),
    );
  });

  it('property: a filter one "+" level deeper than the topic never matches', () => {
    fc.assert(
      fc.property(topicLevels, (ls) => {
        expect(matchesFilter([...ls.map(() => '+'), '+'].join('/'), ls.join('/'))).toBe(false);
      }),
    );
  });

  it('property: $-topics never match a filter whose first level is a wildcard', () => {
    fc.assert(
      fc.property(topicLevels, fc.constantFrom('+', '#'), (ls, first) => {
        const topic = `$${ls.join('/')}`;
        const filter = first === '#' ? '#' : ['+', ...ls.slice(1).map(() => '+')].join('/');
        expect(matchesFilter(filter, topic)).toBe(false);
        expect(matchesFilter(`${topic.split('/')[0]}/#`, topic)).toBe(true);
      }),
    );
  });
});

describe('TopicMapper', () => {
  const rules: MappingRule[] = [
    { filter: 'sensors/+/temp', topic: 'temps', key: { from: 'level', index: 2 }, partitions: 4 },
    { filter: 'sensors/+/json', topic: 'readings', key: { from: 'json', field: 'meta.device' } },
    { filter: 'sensors/#', topic: 'sensors', key: { from: 'json', field: 'deviceId' } },
    { filter: 'cmd/#', topic: 'commands', key: { from: 'clientId' } },
    { filter: 'log/+', topic: 'logs', key: { from: 'none' } },
    { filter: '+/status', topic: 'status', key: { from: 'topic' } },
  ];
  const mapper = new TopicMapper(rules);

  it('keys by topic level "{2}"', () => {
    const r = mapper.map(msg('sensors/dev42/temp', '21.5'));
    expect(r).toMatchObject({ ok: true, topic: 'temps', rule: rules[0] });
    expect(keyOf(r)).toBe('dev42');
    expect(r.ok && r.rule.partitions).toBe(4);
  });

  it('keys by a JSON field: dotted path, string and number values', () => {
    expect(keyOf(mapper.map(msg('sensors/a/json', '{"meta":{"device":"dev-7"},"t":1}')))).toBe('dev-7');
    expect(keyOf(mapper.map(msg('sensors/a/json', '{"meta":{"device":42}}')))).toBe('42');
    expect(keyOf(mapper.map(msg('sensors/x', '{"deviceId":1.5}')))).toBe('1.5');
    expect(keyOf(mapper.map(msg('sensors/x', '{"deviceId":1e21}')))).toBe('1e+21');
    expect(keyOf(mapper.map(msg('sensors/x', '{"deviceId":"ünï"}')))).toBe('ünï');
    expect(mapper.map(msg('sensors/x', '{"deviceId":"ünï"}'))).toMatchObject({ topic: 'sensors', key: enc.encode('ünï') });
  });

  it('keys by client id, by nothing, and by the whole MQTT topic', () => {
    expect(mapper.map(msg('cmd/reboot', '', 'gw-1'))).toMatchObject({ ok: true, topic: 'commands', key: enc.encode('gw-1') });
    expect(mapper.map(msg('log/boot', 'hello'))).toEqual({ ok: true, topic: 'logs', key: null, rule: rules[4] });
    expect(keyOf(mapper.map(msg('dev9/status', 'up')))).toBe('dev9/status');
  });

  it('first matching rule wins, in rule order', () => {
    // "sensors/dev42/temp" also matches "sensors/#", which comes later.
    expect(mapper.map(msg('sensors/dev42/temp', 'x'))).toMatchObject({ topic: 'temps' });
    const reversed = new TopicMapper([rules[2]!, rules[0]!]);
    expect(reversed.map(msg('sensors/dev42/temp', '{"deviceId":"d"}'))).toMatchObject({ ok: true, topic: 'sensors' });
    // A matching rule whose key is missing is a failure, not a fall-through to later rules.
    expect(reversed.map(msg('sensors/dev42/temp', '21.5'))).toMatchObject({ ok: false, reason: 'bad-json' });
  });

  it('bad JSON: not JSON, not an object, not UTF-8', () => {
    for (const payload of ['{nope', '', '[1,2]', '"dev"', 'null', '42', new Uint8Array([0x7b, 0xff, 0x7d])]) {
      const r = mapper.map(msg('sensors/a/json', payload));
      expect(r).toMatchObject({ ok: false, reason: 'bad-json' });
      expect(!r.ok && r.detail).toContain('"sensors/a/json"');
    }
  });

  it('missing key: absent field, wrong type, prototype names, level beyond the topic, no client id', () => {
    const missing = (m: MqttMessage, m2: TopicMapper = mapper) => {
      const r = m2.map(m);
      expect(r).toMatchObject({ ok: false, reason: 'missing-key' });
      return r.ok ? '' : r.detail;
    };
    expect(missing(msg('sensors/a/json', '{"meta":{}}'))).toBe('JSON payload on MQTT topic "sensors/a/json" has no field "meta.device"');
    missing(msg('sensors/a/json', '{"meta":"dev"}'));
    missing(msg('sensors/a/json', '{"meta.device":"dev"}'));
    expect(missing(msg('sensors/x', '{"deviceId":true}'))).toContain('is a boolean, not a string or number');
    expect(missing(msg('sensors/x', '{"deviceId":null}'))).toContain('is null');
    expect(missing(msg('sensors/x', '{"deviceId":{"a":1}}'))).toContain('is an object');
    missing(msg('sensors/x', '{"deviceId":["d"]}'));
    // Own fields only: names on Object.prototype are not in the payload.
    for (const field of ['constructor', 'toString', '__proto__']) {
      const m = new TopicMapper([{ filter: '#', topic: 't', key: { from: 'json', field } }]);
      expect(missing(msg('x', '{}'), m)).toBe(`JSON payload on MQTT topic "x" has no field "${field}"`);
    }
    const proto = new TopicMapper([{ filter: '#', topic: 't', key: { from: 'json', field: '__proto__' } }]);
    expect(keyOf(proto.map(msg('x', '{"__proto__":"dev"}')))).toBe('dev');
    expect(missing(msg('a/b'), new TopicMapper([{ filter: 'a/#', topic: 't', key: { from: 'level', index: 3 } }]))).toBe(
      'MQTT topic "a/b" has no level 3',
    );
    expect(missing(msg('cmd/reboot', '', null))).toContain('no client id');
    missing(msg('cmd/reboot', '', ''));
  });

  it('an empty level is a key of zero bytes, not a missing one', () => {
    const m = new TopicMapper([{ filter: 'a/+/c', topic: 't', key: { from: 'level', index: 2 } }]);
    expect(m.map(msg('a//c'))).toMatchObject({ ok: true, key: new Uint8Array(0) });
    const last = new TopicMapper([{ filter: 'a/#', topic: 't', key: { from: 'level', index: 2 } }]);
    expect(keyOf(last.map(msg('a/b/c')))).toBe('b');
    expect(keyOf(last.map(msg('a/')))).toBe('');
  });

  it('unmapped when no rule matches', () => {
    expect(mapper.map(msg('other/thing'))).toEqual({ ok: false, reason: 'unmapped', detail: 'no mapping rule matches MQTT topic "other/thing"' });
    expect(mapper.map(msg('$SYS/status'))).toMatchObject({ ok: false, reason: 'unmapped' });
    expect(new TopicMapper([]).map(msg('a'))).toMatchObject({ ok: false, reason: 'unmapped' });
  });

  it('same device gives the same key bytes (same partition), different devices differ', () => {
    const a1 = mapper.map(msg('sensors/dev42/temp', '1'));
    const a2 = mapper.map(msg('sensors/dev42/temp', '2'));
    const b = mapper.map(msg('sensors/dev43/temp', '1'));
    expect(a1.ok && a2.ok && b.ok).toBe(true);
    if (a1.ok && a2.ok && b.ok) {
      expect(a1.key).toEqual(a2.key);
      expect(a1.key).not.toBe(a2.key); // fresh bytes each time: the caller may hand them off
      expect(b.key).not.toEqual(a1.key);
    }
    const j1 = mapper.map(msg('sensors/a/json', '{"meta":{"device":"d1"},"v":1}'));
    const j2 = mapper.map(msg('sensors/b/json', '{"v":2,"meta":{"device":"d1"}}'));
    expect(j1.ok && j2.ok && j1.key).toEqual(j2.ok && j2.key);
  });

  it('property: a level key is the UTF-8 of that level', () => {
    const m = new TopicMapper([{ filter: 'p/#', topic: 't', key: { from: 'level', index: 3 } }]);
    const level = fc.string({ maxLength: 8 }).filter((s) => !/[/+#]/.test(s));
    fc.assert(
      fc.property(level, level, fc.array(level, { maxLength: 3 }), (a, b, rest) => {
        const r = m.map(msg(['p', a, b, ...rest].join('/')));
        expect(r).toMatchObject({ ok: true, key: enc.encode(b) });
      }),
    );
  });

  it('DEFAULT_RULES send every non-$ topic to "mqtt", keyed by MQTT topic', () => {
    expect(DEFAULT_RULES).toEqual([{ filter: '#', topic: 'mqtt', key: { from: 'topic' } }]);
    const d = new TopicMapper(DEFAULT_RULES);
    expect(d.map(msg('sensors/dev42/temp'))).toMatchObject({ ok: true, topic: 'mqtt', key: enc.encode('sensors/dev42/temp') });
  });

  it('the constructor refuses invalid rules, listing each', () => {
    expect(
      () =>
        new TopicMapper([
          { filter: 'a/b#', topic: 't', key: { from: 'topic' } },
          { filter: '#', topic: '__x', key: { from: 'level', index: 0 } },
        ]),
    ).toThrow(/rules\[0\]\.filter: .*\n.*rules\[1\]\.topic: .*\n.*rules\[1\]\.key\.index: /);
  });
});

describe('parseMappingRules', () => {
  it('accepts key shorthands and object forms, normalising to KeySpec', () => {
    const rules = parseMappingRules([
      { filter: '#', topic: 'all', key: 'topic' },
      { filter: 'cmd/#', topic: 'cmd', key: 'clientId' },
      { filter: 'log/#', topic: 'logs', key: 'none' },
      { filter: 'sensors/+/temp', topic: 'temps', key: '{2}', partitions: 6 },
      { filter: 'j/#', topic: 'j1', key: 'json:deviceId' },
      { filter: 'j/#', topic: 'j2', key: 'json:meta.device' },
      { filter: 'o/+', topic: 'o', key: { from: 'level', index: 1 } },
      { filter: '$SYS/#', topic: 'sys.metrics_v1', key: { from: 'json', field: 'a.b' } },
    ]);
    expect(rules.map((r) => r.key)).toEqual([
      { from: 'topic' },
      { from: 'clientId' },
      { from: 'none' },
      { from: 'level', index: 2 },
      { from: 'json', field: 'deviceId' },
      { from: 'json', field: 'meta.device' },
      { from: 'level', index: 1 },
      { from: 'json', field: 'a.b' },
    ]);
    expect(rules[3]).toEqual({ filter: 'sensors/+/temp', topic: 'temps', key: { from: 'level', index: 2 }, partitions: 6 });
    expect('partitions' in rules[0]!).toBe(false);
    // The result feeds TopicMapper directly.
    expect(keyOf(new TopicMapper(rules.slice(3)).map(msg('sensors/dev1/temp')))).toBe('dev1');
  });

  it('reports every problem at once, one per line, naming rule index and field', () => {
    const problems = problemsOf([
      { filter: 'sport+', topic: 'ok', key: 'topic' },
      { filter: 'a/#/b', topic: 'bad topic!', key: { from: 'level', index: 0 } },
      { filter: '#', topic: '__consumer_offsets', key: '{x}' },
      { filter: 'a', topic: 'ok', key: 'deviceId', partitions: 1.5 },
      { filter: 'a', topic: 'x'.repeat(250), key: { from: 'json' }, partitions: '3' },
      { filter: 'a/+', topic: '..', key: '{3}', colour: 'red' },
      { filter: '', topic: 'ok', key: 'json:' },
      'not a rule',
      { topic: 42, key: { from: 'bytes' }, partitions: 0 },
      { filter: '#', topic: 'ok', key: { from: 'topic', index: 2 } },
      { filter: 'a/+', topic: 'ok', key: 'json:a..b' },
    ]);
    const expected = [
      /^mqtt-rules\[0\]\.filter: "sport\+": level "sport\+" mixes a wildcard/,
      /^mqtt-rules\[1\]\.filter: "a\/#\/b": "#" must be the last level/,
      /^mqtt-rules\[1\]\.topic: topic name "bad topic!" may only contain/,
      /^mqtt-rules\[1\]\.key\.index: must be a whole number ≥ 1; got 0$/,
      /^mqtt-rules\[2\]\.topic: .*"__consumer_offsets" starts with "__"/,
      /^mqtt-rules\[2\]\.key: level in "\{x\}" must be a whole number ≥ 1/,
      /^mqtt-rules\[3\]\.key: unknown key shorthand "deviceId"/,
      /^mqtt-rules\[3\]\.partitions: must be a whole number ≥ 1; got 1\.5$/,
      /^mqtt-rules\[4\]\.topic: .* is 250 characters; the limit is 249$/,
      /^mqtt-rules\[4\]\.key\.field: must be a string; got nothing$/,
      /^mqtt-rules\[4\]\.partitions: must be a whole number ≥ 1; got "3"$/,
      /^mqtt-rules\[5\]\.colour: unknown field/,
      /^mqtt-rules\[5\]\.topic: topic name "\.\." is reserved$/,
      /^mqtt-rules\[5\]\.key: level 3 is beyond filter "a\/\+", which only matches topics of 2 levels$/,
      /^mqtt-rules\[6\]\.filter: must not be empty/,
      /^mqtt-rules\[6\]\.key: json field must name a payload field/,
      /^mqtt-rules\[7\]: must be an object/,
      /^mqtt-rules\[8\]\.filter: must be an MQTT topic filter string .*got nothing$/,
      /^mqtt-rules\[8\]\.topic: must be an Eddy topic name string; got 42$/,
      /^mqtt-rules\[8\]\.key\.from: must be one of "topic", "level", "json", "clientId", "none"; got "bytes"$/,
      /^mqtt-rules\[8\]\.partitions: must be a whole number ≥ 1; got 0$/,
      /^mqtt-rules\[9\]\.key\.index: not a field of a "topic" key/,
      /^mqtt-rules\[10\]\.key: json field "a\.\.b" has an empty path segment/,
    ];
    expect(problems).toHaveLength(expected.length);
    problems.forEach((p, i) => expect(p).toMatch(expected[i]!));
  });

  it('refuses a non-array and an empty list', () => {
    expect(problemsOf({ filter: '#' })).toEqual([expect.stringMatching(/^mqtt-rules: must be an array of rules/)]);
    expect(problemsOf(undefined)).toEqual([expect.stringMatching(/^mqtt-rules: must be an array.*got nothing$/)]);
    expect(problemsOf([])).toEqual([expect.stringMatching(/^mqtt-rules: must hold at least one rule/)]);
  });

  it('throws a plain Error', () => {
    expect(() => parseMappingRules([{ filter: '#', topic: '', key: 'none' }])).toThrow(Error);
    expect(problemsOf([{ filter: '#', topic: '', key: 'none' }])).toEqual(['mqtt-rules[0].topic: topic name "" is empty']);
  });
});
