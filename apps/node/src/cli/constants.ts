// Defaults and exit codes of the `cpc` CLI.

/**
 * Where `cpc` looks for a node when neither --addr nor CPC_GRPC_ADDR is given: cpc-node's default
 * gRPC listen address (apps/node/README.md).
 */
export const DEFAULT_GRPC_ADDR = '127.0.0.1:50051'

/** Per-call bound (seconds) when --timeout is not given; also discover's timeout_ms. */
export const DEFAULT_TIMEOUT_S = 10

/** Sends from a file at least this large show a progress bar on a terminal. */
export const PROGRESS_MIN_BYTES = 1024 * 1024

/** Largest gRPC message the CLI accepts from a node (ListPeers of a big table, large payloads). */
export const MAX_GRPC_MESSAGE_BYTES = 64 * 1024 * 1024

export const EXIT_OK = 0
/** The node answered with an error status (printed), or a peer name matched nothing. */
export const EXIT_CALL_FAILED = 1
/** Bad command line. */
export const EXIT_USAGE = 2
/** No gRPC connection to the node could be established. */
export const EXIT_CONNECTION = 3
