/** Cluster metadata as pure logic: records and their codec, the image, snapshots, placement, controller decisions. */
export * from './records.js';
export * from './uuid.js';
export * from './image.js';
export * from './apply.js';
export * from './snapshot.js';
export * from './placement.js';
export * from './topic-decisions.js';
export * from './broker-decisions.js';
export * from './partition-decisions.js';
