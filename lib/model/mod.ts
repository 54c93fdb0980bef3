/**
 * The Track2Seq language model over playlist tokens: network, training, checkpoints and backend selection.
 * @module
 */

export * from "./auto_backend.ts";
export * from "./backend.ts";
export * from "./checkpoint.ts";
export * from "./host_tables.ts";
export * from "./kernels.ts";
export * from "./network.ts";
export * from "./self_test.ts";
export * from "./sparse_adam.ts";
export * from "./train.ts";
export * from "./training_checkpoints.ts";
export * from "./training_state.ts";
export * from "./webgpu.ts";
