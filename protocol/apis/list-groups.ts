import { array, int32, string, struct, type Infer } from '../wire/schema.js';

/**
 * ListGroups (key 16): every group with members or committed offsets. statesFilter: only groups
 * in these states (empty, assigning, stable); [] means all.
 */
export const ListGroupsRequestV0 = struct({ statesFilter: array(string) });

export const ListGroupsResponseV0 = struct({
  groups: array(struct({ groupId: string, state: string, protocolType: string, members: int32, assignor: string })),
});

export type ListGroupsRequest = Infer<typeof ListGroupsRequestV0>;
export type ListGroupsResponse = Infer<typeof ListGroupsResponseV0>;
