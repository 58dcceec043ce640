/**
 * The API table: key, supported versions and the schemas of each version. Keys are Kafka's.
 * Server, client and PROTOCOL.md all read this table.
 */
import { decode, type Infer, type StructType } from '../wire/schema.js';
import { AllocateProducerIdsRequestV0, AllocateProducerIdsResponseV0 } from './allocate-producer-ids.js';
import { AlterPartitionRequestV0, AlterPartitionResponseV0 } from './alter-partition.js';
import { ApiVersionsRequestV0, ApiVersionsResponseV0 } from './api-versions.js';
import { BeginQuorumEpochRequestV0, BeginQuorumEpochResponseV0 } from './begin-quorum-epoch.js';
import { BrokerHeartbeatRequestV0, BrokerHeartbeatResponseV0 } from './broker-heartbeat.js';
import { BrokerRegistrationRequestV0, BrokerRegistrationResponseV0 } from './broker-registration.js';
import { ConsumerGroupDescribeRequestV0, ConsumerGroupDescribeResponseV0 } from './consumer-group-describe.js';
import { ConsumerGroupHeartbeatRequestV0, ConsumerGroupHeartbeatResponseV0 } from './consumer-group-heartbeat.js';
import { CreatePartitionsRequestV0, CreatePartitionsResponseV0 } from './create-partitions.js';
import { CreateTopicsRequestV0, CreateTopicsResponseV0 } from './create-topics.js';
import { DeleteGroupsRequestV0, DeleteGroupsResponseV0 } from './delete-groups.js';
import { DeleteTopicsRequestV0, DeleteTopicsResponseV0 } from './delete-topics.js';
import { DescribeConfigsRequestV0, DescribeConfigsResponseV0 } from './describe-configs.js';
import { DescribeLogDirsRequestV0, DescribeLogDirsResponseV0 } from './describe-log-dirs.js';
import { DescribeQuorumRequestV0, DescribeQuorumRequestV1, DescribeQuorumResponseV0, DescribeQuorumResponseV1 } from './describe-quorum.js';
import { EndQuorumEpochRequestV0, EndQuorumEpochResponseV0 } from './end-quorum-epoch.js';
import { FetchRequestV0, FetchRequestV1, FetchRequestV2, FetchResponseV0, FetchResponseV1, FetchResponseV2, upgradeFetchV0, upgradeFetchV1 } from './fetch.js';
import { FetchSnapshotRequestV0, FetchSnapshotResponseV0 } from './fetch-snapshot.js';
import { FindCoordinatorRequestV0, FindCoordinatorResponseV0 } from './find-coordinator.js';
import { IncrementalAlterConfigsRequestV0, IncrementalAlterConfigsResponseV0 } from './incremental-alter-configs.js';
import { InitProducerIdRequestV0, InitProducerIdResponseV0 } from './init-producer-id.js';
import { ListGroupsRequestV0, ListGroupsResponseV0 } from './list-groups.js';
import { ListOffsetsRequestV0, ListOffsetsResponseV0 } from './list-offsets.js';
import { MetadataRequestV0, MetadataResponseV0 } from './metadata.js';
import { OffsetCommitRequestV0, OffsetCommitResponseV0 } from './offset-commit.js';
import { OffsetFetchRequestV0, OffsetFetchResponseV0 } from './offset-fetch.js';
import { PeerHelloRequestV0, PeerHelloRequestV1, PeerHelloResponseV0, PeerProofRequestV0, PeerProofResponseV0, upgradePeerHelloV0 } from './peer-auth.js';
import { ProduceRequestV0, ProduceResponseV0 } from './produce.js';
import { VoteRequestV0, VoteResponseV0 } from './vote.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStruct = StructType<any>;

/** One version's request and response schemas. */
export interface ApiVersion<Req extends AnyStruct = AnyStruct, Res extends AnyStruct = AnyStruct> {
  readonly request: Req;
  readonly response: Res;
  /**
   * On every version but the newest: the decoded request in the newest version's shape, the
   * fields this version lacks set to what Kafka implies for them (Fetch v0: replicaId −1), so a
   * handler sees one shape whatever arrived. Answers are encoded with the version's own response
   * schema.
   */
  upgrade?(request: Infer<Req>): unknown;
}

/** An older version: it must say how its requests read in the newest version's shape. */
type OlderVersion<Newest> = ApiVersion & { upgrade(request: never): Newest };

/**
 * Who may send an API: `client` APIs come over the client port (SDK, CLI); `peer` APIs only over
 * an authenticated peer link between nodes (quorum, registration, the handshake itself), so the
 * client server refuses them whatever a client sends.
 */
export type ApiScope = 'client' | 'peer';

export interface ApiSpec<Req extends AnyStruct = AnyStruct, Res extends AnyStruct = AnyStruct> {
  readonly key: number;
  readonly name: string;
  readonly scope: ApiScope;
  /** Schemas by version; the index is the version. */
  readonly versions: readonly ApiVersion[];
  /** The newest version: what the client SDK sends, and the request shape handlers receive. */
  readonly newest: { readonly version: number; readonly request: Req; readonly response: Res };
}

type Versions<Req extends AnyStruct, Res extends AnyStruct> = [...older: OlderVersion<Infer<Req>>[], newest: { request: Req; response: Res }];

function spec<Req extends AnyStruct, Res extends AnyStruct>(scope: ApiScope, key: number, name: string, versions: Versions<Req, Res>): ApiSpec<Req, Res> {
  const newest = versions[versions.length - 1] as { request: Req; response: Res };
  return { key, name, scope, versions, newest: { version: versions.length - 1, request: newest.request, response: newest.response } };
}

/** A client API from its versions, oldest (v0) first; the last is the newest. */
function api<Req extends AnyStruct, Res extends AnyStruct>(key: number, name: string, ...versions: Versions<Req, Res>): ApiSpec<Req, Res> {
  return spec('client', key, name, versions);
}

/** A peer-only API (node to node), as `api`. */
function peerApi<Req extends AnyStruct, Res extends AnyStruct>(key: number, name: string, ...versions: Versions<Req, Res>): ApiSpec<Req, Res> {
  return spec('peer', key, name, versions);
}

export const Apis = {
  Produce: api(0, 'Produce', { request: ProduceRequestV0, response: ProduceResponseV0 }),
  Fetch: api(
    1,
    'Fetch',
    { request: FetchRequestV0, response: FetchResponseV0, upgrade: upgradeFetchV0 },
    { request: FetchRequestV1, response: FetchResponseV1, upgrade: upgradeFetchV1 },
    { request: FetchRequestV2, response: FetchResponseV2 },
  ),
  ListOffsets: api(2, 'ListOffsets', { request: ListOffsetsRequestV0, response: ListOffsetsResponseV0 }),
  Metadata: api(3, 'Metadata', { request: MetadataRequestV0, response: MetadataResponseV0 }),
  OffsetCommit: api(8, 'OffsetCommit', { request: OffsetCommitRequestV0, response: OffsetCommitResponseV0 }),
  OffsetFetch: api(9, 'OffsetFetch', { request: OffsetFetchRequestV0, response: OffsetFetchResponseV0 }),
  FindCoordinator: api(10, 'FindCoordinator', { request: FindCoordinatorRequestV0, response: FindCoordinatorResponseV0 }),
  ListGroups: api(16, 'ListGroups', { request: ListGroupsRequestV0, response: ListGroupsResponseV0 }),
  ApiVersions: api(18, 'ApiVersions', { request: ApiVersionsRequestV0, response: ApiVersionsResponseV0 }),
  CreateTopics: api(19, 'CreateTopics', { request: CreateTopicsRequestV0, response: CreateTopicsResponseV0 }),
  DeleteTopics: api(20, 'DeleteTopics', { request: DeleteTopicsRequestV0, response: DeleteTopicsResponseV0 }),
  InitProducerId: api(22, 'InitProducerId', { request: InitProducerIdRequestV0, response: InitProducerIdResponseV0 }),
  DescribeConfigs: api(32, 'DescribeConfigs', { request: DescribeConfigsRequestV0, response: DescribeConfigsResponseV0 }),
  DescribeLogDirs: api(35, 'DescribeLogDirs', { request: DescribeLogDirsRequestV0, response: DescribeLogDirsResponseV0 }),
  CreatePartitions: api(37, 'CreatePartitions', { request: CreatePartitionsRequestV0, response: CreatePartitionsResponseV0 }),
  DeleteGroups: api(42, 'DeleteGroups', { request: DeleteGroupsRequestV0, response: DeleteGroupsResponseV0 }),
  IncrementalAlterConfigs: api(44, 'IncrementalAlterConfigs', { request: IncrementalAlterConfigsRequestV0, response: IncrementalAlterConfigsResponseV0 }),
  Vote: peerApi(52, 'Vote', { request: VoteRequestV0, response: VoteResponseV0 }),
  BeginQuorumEpoch: peerApi(53, 'BeginQuorumEpoch', { request: BeginQuorumEpochRequestV0, response: BeginQuorumEpochResponseV0 }),
  EndQuorumEpoch: peerApi(54, 'EndQuorumEpoch', { request: EndQuorumEpochRequestV0, response: EndQuorumEpochResponseV0 }),
  // A client API: `eddy cluster describe` asks it over the client port.
  DescribeQuorum: api(
    55,
    'DescribeQuorum',
    { request: DescribeQuorumRequestV0, response: DescribeQuorumResponseV0, upgrade: (r) => r },
    { request: DescribeQuorumRequestV1, response: DescribeQuorumResponseV1 },
  ),
  AlterPartition: peerApi(56, 'AlterPartition', { request: AlterPartitionRequestV0, response: AlterPartitionResponseV0 }),
  FetchSnapshot: peerApi(59, 'FetchSnapshot', { request: FetchSnapshotRequestV0, response: FetchSnapshotResponseV0 }),
  BrokerRegistration: peerApi(62, 'BrokerRegistration', { request: BrokerRegistrationRequestV0, response: BrokerRegistrationResponseV0 }),
  BrokerHeartbeat: peerApi(63, 'BrokerHeartbeat', { request: BrokerHeartbeatRequestV0, response: BrokerHeartbeatResponseV0 }),
  AllocateProducerIds: peerApi(67, 'AllocateProducerIds', { request: AllocateProducerIdsRequestV0, response: AllocateProducerIdsResponseV0 }),
  ConsumerGroupHeartbeat: api(68, 'ConsumerGroupHeartbeat', { request: ConsumerGroupHeartbeatRequestV0, response: ConsumerGroupHeartbeatResponseV0 }),
  ConsumerGroupDescribe: api(69, 'ConsumerGroupDescribe', { request: ConsumerGroupDescribeRequestV0, response: ConsumerGroupDescribeResponseV0 }),
  // Eddy's own keys start at 1000, clear of Kafka's.
  PeerHello: peerApi(
    1000,
    'PeerHello',
    { request: PeerHelloRequestV0, response: PeerHelloResponseV0, upgrade: upgradePeerHelloV0 },
    // v1: the dialer's role and voters, so observers can link (KIP-595).
    { request: PeerHelloRequestV1, response: PeerHelloResponseV0 },
  ),
  PeerProof: peerApi(1001, 'PeerProof', { request: PeerProofRequestV0, response: PeerProofResponseV0 }),
} as const;

export type ApiName = keyof typeof Apis;

export const API_BY_KEY: ReadonlyMap<number, ApiSpec> = new Map(Object.values(Apis).map((a) => [a.key, a as ApiSpec]));

/**
 * Decodes a request body sent as `version` of `api` (WireError if it does not decode) and returns
 * it in the newest version's shape: what the handler of that API takes.
 */
export function decodeRequest(api: ApiSpec, version: number, body: Uint8Array): unknown {
  const schemas = api.versions[version];
  if (!schemas) throw new RangeError(`${api.name} has no version ${version}`);
  const request = decode(schemas.request, body);
  return schemas.upgrade ? schemas.upgrade(request) : request;
}
