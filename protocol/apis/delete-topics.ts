import { array, int16, int32, nullableString, string, struct, type Infer } from '../wire/schema.js';

/** DeleteTopics (key 20). Deletes the topics' logs; fetches waiting on them end with UNKNOWN_TOPIC_OR_PARTITION. */
export const DeleteTopicsRequestV0 = struct({ names: array(string), timeoutMs: int32 });

export const DeleteTopicsResponseV0 = struct({
  topics: array(struct({ name: string, errorCode: int16, errorMessage: nullableString })),
});

export type DeleteTopicsRequest = Infer<typeof DeleteTopicsRequestV0>;
export type DeleteTopicsResponse = Infer<typeof DeleteTopicsResponseV0>;
