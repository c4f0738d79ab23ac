// The gRPC connection of one CLI run: a channel to the node, a NodeService client carrying the bearer
// token, a readiness check that fails fast (exit 3) instead of waiting out the deadline on a refused
// port, and the mapping of call failures to CliErrors.
import { nodeApi } from '@cpc/protocol'
import { ClientError, Metadata, Status, createChannel, createClient, type Channel, type Client } from 'nice-grpc'
import { MAX_GRPC_MESSAGE_BYTES } from './constants.js'
import { CallFailedError, ConnectionError } from './errors.js'

export type NodeClient = Client<typeof nodeApi.NodeServiceDefinition>

export interface ConnectOptions {
  addr: string
  token?: string
  timeoutMs: number
  signal?: AbortSignal
}

// grpc-js connectivity states (its enum is not re-exported by nice-grpc).
const READY = 2
const TRANSIENT_FAILURE = 3
const SHUTDOWN = 4

export interface Connection {
  client: NodeClient
  close(): void
}

export async function connect(options: ConnectOptions): Promise<Connection> {
  const channel = createChannel(options.addr, undefined, {
    'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
  })
  try {
    await waitReady(channel, options.addr, Date.now() + options.timeoutMs, options.signal)
  } catch (err) {
    channel.close()
    throw err
  }
  const metadata = new Metadata()
  if (options.token !== undefined && options.token !== '') metadata.set('authorization', `Bearer ${options.token}`)
  const client = createClient(nodeApi.NodeServiceDefinition, channel, { '*': { metadata } })
  return { client, close: () => channel.close() }
}

/** Resolves once the channel is READY; ConnectionError on the first transient failure or at the deadline. */
async function waitReady(channel: Channel, addr: string, deadline: number, signal?: AbortSignal): Promise<void> {
  for (;;) {
    const state = channel.getConnectivityState(true)
    if (state === READY) return
    if (state === TRANSIENT_FAILURE || state === SHUTDOWN) throw new ConnectionError(`cannot connect to ${addr}: connection refused or unreachable`)
    if (signal?.aborted === true) throw new ConnectionError(`cannot connect to ${addr}: aborted`)
    await new Promise<void>((resolve, reject) => {
      channel.watchConnectivityState(state, deadline, (err) => (err === undefined ? resolve() : reject(new ConnectionError(`cannot connect to ${addr}: no answer before the deadline`))))
    })
  }
}

/**
 * A signal that aborts after `timeoutMs` or with `parent`; `clear()` once the call is over removes the
 * timer and the listener on `parent` (a long-lived parent would otherwise collect one per call). An
 * explicit timer rather than AbortSignal.any([AbortSignal.timeout()]): Node 20 may collect the inner
 * timeout signal before it fires.
 */
export function callSignal(timeoutMs: number, parent?: AbortSignal): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new DOMException('call timed out', 'TimeoutError')), timeoutMs)
  const onAbort = (): void => controller.abort(parent?.reason)
  if (parent?.aborted === true) controller.abort(parent.reason)
  else parent?.addEventListener('abort', onAbort, { once: true })
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onAbort)
    },
  }
}

/** Turns a failed call into the CliError the run exits with. */
export function callFailure(err: unknown, what: string, timeoutMs: number): Error {
  if (err instanceof ClientError) {
    // A server-side error carries its cpc-net code ("ERR_..."); a bare UNAVAILABLE is the transport.
    if (err.code === Status.UNAVAILABLE && !/^ERR_/.test(err.details)) return new ConnectionError(`${what}: connection lost (${err.details})`)
    return new CallFailedError(`${what} failed: ${Status[err.code]}: ${err.details}`)
  }
  if (isAbort(err)) return new CallFailedError(`${what} failed: no answer within ${timeoutMs / 1000} s (--timeout)`)
  return err instanceof Error ? err : new Error(String(err))
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')
}
