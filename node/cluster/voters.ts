/**
 * The controller quorum's voters, as `--controller-quorum-voters` names them (Kafka's
 * controller.quorum.voters form, with WebSocket URLs): `1@ws://host-a:9400,2@ws://host-b:9400`.
 */

/** One voter of the controller quorum: its node id and the WebSocket URL its peers dial. */
export interface Voter {
  id: number;
  url: string;
}

export type ClusterRole = 'voter' | 'observer';

/** Largest node id (Kafka's node.id is an int32). */
export const MAX_NODE_ID = 2 ** 31 - 1;

/**
 * Parses and checks a voter list. Throws one Error whose message names every problem, so an
 * operator fixes them all at once: each entry must be `<id>@ws://host:port` (or wss://), ids
 * unique whole numbers from 0, URLs unique.
 */
export function parseVoters(raw: string): Voter[] {
  const entries = raw.split(',').map((e) => e.trim());
  if (raw.trim() === '') throw new Error('must list the voters as <id>@ws://host:port, separated by commas, e.g. 1@ws://gw-a:9400,2@ws://gw-b:9400');
  const problems: string[] = [];
  const voters: Voter[] = [];
  for (const entry of entries) {
    const m = /^(\d+)@(.+)$/.exec(entry);
    if (!m) {
      problems.push(`"${entry}" is not <id>@ws://host:port`);
      continue;
    }
    const id = Number(m[1]);
    if (!Number.isSafeInteger(id) || id > MAX_NODE_ID) {
      problems.push(`"${entry}": the node id must be a whole number from 0 to ${MAX_NODE_ID}`);
      continue;
    }
    const url = checkVoterUrl(m[2]!);
    if (typeof url !== 'string') {
      problems.push(`"${entry}": ${url.problem}`);
      continue;
    }
    voters.push({ id, url });
  }
  const seen = new Map<number, number>();
  for (const v of voters) seen.set(v.id, (seen.get(v.id) ?? 0) + 1);
  for (const [id, n] of seen) if (n > 1) problems.push(`node id ${id} is listed ${n} times: each voter needs its own id`);
  const urls = new Map<string, number[]>();
  for (const v of voters) urls.set(v.url, [...(urls.get(v.url) ?? []), v.id]);
  for (const [url, ids] of urls) if (ids.length > 1) problems.push(`${url} is listed for nodes ${ids.join(' and ')}: each voter needs its own address`);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return voters;
}

function checkVoterUrl(text: string): string | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `${JSON.stringify(text)} is not a URL; use ws://host:port or wss://host:port` };
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return { problem: `the URL must start with ws:// or wss://, got ${url.protocol}//` };
  if (url.hostname === '') return { problem: 'the URL has no host' };
  if (url.port === '') return { problem: `the URL must name the port (the node's --port), e.g. ${url.protocol}//${url.hostname}:9400` };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    return { problem: 'the URL must be just ws://host:port: peer links use the path set by --peer-path' };
  }
  return `${url.protocol}//${url.host}`;
}

/** Voters in id order, for comparing lists and printing them the same way every time. */
export function sortVoters(voters: readonly Voter[]): Voter[] {
  return [...voters].sort((a, b) => a.id - b.id);
}

/** Whether two voter lists name the same voters (order does not matter). */
export function sameVoters(a: readonly Voter[], b: readonly Voter[]): boolean {
  if (a.length !== b.length) return false;
  const sa = sortVoters(a);
  const sb = sortVoters(b);
  return sa.every((v, i) => v.id === sb[i]!.id && v.url === sb[i]!.url);
}

/** The `--controller-quorum-voters` text of a list. */
export function formatVoters(voters: readonly Voter[]): string {
  return sortVoters(voters).map((v) => `${v.id}@${v.url}`).join(',');
}

/** A node whose id is not among the voters follows the metadata log without voting. */
export function roleOf(nodeId: number, voters: readonly Voter[]): ClusterRole {
  return voters.some((v) => v.id === nodeId) ? 'voter' : 'observer';
}
