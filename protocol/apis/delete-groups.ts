import { array, int16, nullableString, string, struct, type Infer } from '../wire/schema.js';

/**
 * DeleteGroups (key 42): removes groups and their committed offsets. A group with members is
 * refused (NON_EMPTY_GROUP); an unknown one gets GROUP_ID_NOT_FOUND.
 */
export const DeleteGroupsRequestV0 = struct({ groupIds: array(string) });

export const DeleteGroupsResponseV0 = struct({
  results: array(struct({ groupId: string, errorCode: int16, errorMessage: nullableString })),
});

export type DeleteGroupsRequest = Infer<typeof DeleteGroupsRequestV0>;
export type DeleteGroupsResponse = Infer<typeof DeleteGroupsResponseV0>;
