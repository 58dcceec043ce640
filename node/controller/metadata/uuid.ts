/**
 * The metadata's uuids (topic ids, incarnation ids) and their 16-byte wire type. They live with
 * the wire primitives (protocol/wire/uuid.ts) since peer APIs such as AlterPartition carry topic
 * ids too; the metadata code keeps importing them from here.
 */
export * from '../../../protocol/wire/uuid.js';
