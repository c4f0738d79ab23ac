// One function per `cpc` command: call the node, print a table (or one JSON document with --json,
// from the generated toJSON, so uint64 fields are strings and enums are names).
import { readFile } from 'node:fs/promises'
import { Priority, common, nodeApi } from '@cpc/protocol'
import { peerIdFromString } from '@libp2p/peer-id'
import { callFailure, callSignal, isAbort, type NodeClient } from './client.js'
import { PROGRESS_MIN_BYTES } from './constants.js'
import { CallFailedError, ConnectionError, UsageError } from './errors.js'
import { PEER_HEAD, bytes, duration, eventLine, keyValues, peerRow, priorityName, routeName, shortId, stateName, table } from './format.js'
import { Progress, readWithProgress } from './progress.js'

export interface Out {
  write(text: string): unknown
  isTTY?: boolean
}

export interface Ctx {
  client: NodeClient
  addr: string
  stdout: Out
  stderr: Out
  json: boolean
  wide: boolean
  timeoutMs: number
  signal?: AbortSignal
}

function print(ctx: Ctx, human: string, json: unknown): void {
  ctx.stdout.write(ctx.json ? `${JSON.stringify(json, null, 2)}\n` : `${human}\n`)
}

async function call<T>(ctx: Ctx, what: string, fn: (signal: AbortSignal) => Promise<T>, timeoutMs = ctx.timeoutMs): Promise<T> {
  const { signal, clear } = callSignal(timeoutMs, ctx.signal)
  try {
    return await fn(signal)
  } catch (err) {
    throw callFailure(err, what, timeoutMs)
  } finally {
    clear()
  }
}

export function parsePriority(value: string): Priority {
  switch (value.toLowerCase()) {
    case 'low':
    case '0':
      return Priority.LOW
    case 'medium':
    case '1':
      return Priority.MEDIUM
    case 'high':
    case '2':
      return Priority.HIGH
    default:
      throw new UsageError(`--priority must be low, medium or high (got '${value}')`)
  }
}

export function parseScope(value: string): common.BroadcastScope {
  if (value === 'all') return { kind: common.BroadcastScope_Kind.KIND_ALL, group: '' }
  if (value === 'neighbors' || value === 'neighbours') return { kind: common.BroadcastScope_Kind.KIND_NEIGHBORS, group: '' }
  if (value.startsWith('group:') && value.length > 'group:'.length) return { kind: common.BroadcastScope_Kind.KIND_GROUP, group: value.slice('group:'.length) }
  throw new UsageError(`--scope must be all, neighbors or group:NAME (got '${value}')`)
}

export function parseState(value: string): common.PeerState {
  const state = common.peerStateFromJSON(`PEER_STATE_${value.toUpperCase()}`)
  if (state === common.PeerState.UNRECOGNIZED || state === common.PeerState.PEER_STATE_UNSPECIFIED)
    throw new UsageError(`--state must be disconnected, connecting, connected or disconnecting (got '${value}')`)
  return state
}

function isFullPeerId(value: string): boolean {
  try {
    peerIdFromString(value)
    return true
  } catch {
    return false
  }
}

/**
 * A full peer id is used as is; anything else is matched against the node's known peers as the end
 * (as `cpc peers` shows it, `…abcd1234`) or the start of an id.
 */
export async function resolvePeer(ctx: Ctx, value: string): Promise<string> {
  if (isFullPeerId(value)) return value
  const part = value.replace(/^…/, '')
  if (part === '') throw new UsageError('empty peer id')
  const { peers } = await call(ctx, 'ListPeers', async (signal) => ctx.client.listPeers({}, { signal }))
  const matches = peers.map((p) => p.peerId).filter((id) => id.endsWith(part) || id.startsWith(part))
  if (matches.length === 1) return matches[0]!
  if (matches.length === 0) throw new CallFailedError(`unknown peer '${value}': not a peer id, and no peer known to the node matches it`)
  throw new CallFailedError(`ambiguous peer '${value}': matches ${matches.map((id) => shortId(id)).join(', ')}`)
}

export async function status(ctx: Ctx): Promise<void> {
  const s = await call(ctx, 'GetStatus', async (signal) => ctx.client.getStatus({}, { signal }))
  const human = keyValues([
    ['peer id', s.peerId],
    ['version', s.version],
    ['uptime', duration(Number(s.uptimeMs))],
    ['reachability', s.reachability],
    ['peers', `${s.connectedPeers} connected, ${s.knownPeers} known`],
    ['relay reservations', String(s.relayReservations)],
    ['outbox', `${s.outboxDepth} waiting`],
    ['groups', s.groups.length > 0 ? s.groups.join(', ') : '-'],
    ['listen', s.listenAddrs.length > 0 ? s.listenAddrs.join('\n' + ' '.repeat('relay reservations'.length + 2)) : '-'],
  ])
  print(ctx, human, nodeApi.GetStatusResponse.toJSON(s))
}

export async function peers(ctx: Ctx, options: { state?: string }): Promise<void> {
  const state = options.state === undefined ? common.PeerState.PEER_STATE_UNSPECIFIED : parseState(options.state)
  const res = await call(ctx, 'ListPeers', async (signal) => ctx.client.listPeers({ state }, { signal }))
  const human = res.peers.length === 0 ? '(no peers)' : table(PEER_HEAD, res.peers.map((p) => peerRow(p, ctx.wide)))
  print(ctx, human, nodeApi.ListPeersResponse.toJSON(res))
}

export async function state(ctx: Ctx, peer: string): Promise<void> {
  const peerId = await resolvePeer(ctx, peer)
  const res = await call(ctx, 'GetConnectionState', async (signal) => ctx.client.getConnectionState({ peerId }, { signal }))
  const since = Number(res.sinceMs)
  // The node's clock is wall-clock ms; 0 means it never saw the peer.
  const human = `${shortId(peerId, ctx.wide)}  ${stateName(res.state)}${since > 0 ? `  since ${new Date(since).toISOString()}` : ''}`
  print(ctx, human, { peerId, ...(nodeApi.GetConnectionStateResponse.toJSON(res) as object) })
}

export async function score(ctx: Ctx, peer: string): Promise<void> {
  const peerId = await resolvePeer(ctx, peer)
  const res = await call(ctx, 'GetPeerScore', async (signal) => ctx.client.getPeerScore({ peerId }, { signal }))
  const s = res.score
  const human =
    s === undefined
      ? '(no score)'
      : keyValues([
          ['peer', shortId(s.peerId, ctx.wide)],
          ['composite', s.composite.toFixed(3)],
          ['uptime', s.uptime.toFixed(3)],
          ['responsiveness', s.responsiveness.toFixed(3)],
          ['stability', s.stability.toFixed(3)],
          ['penalty', s.penalty.toFixed(3)],
        ])
  print(ctx, human, nodeApi.GetPeerScoreResponse.toJSON(res))
}

export interface SendOptions {
  priority: string
  kind?: string
  contentId?: string
  ttl?: string
  progress: boolean
}

/** `text`, or `@path` for a file's bytes (`@@text` for a text that starts with @). */
async function payloadOf(ctx: Ctx, message: string, progress: boolean): Promise<{ payload: Uint8Array; bar?: Progress }> {
  if (!message.startsWith('@') || message.startsWith('@@')) return { payload: new TextEncoder().encode(message.startsWith('@@') ? message.slice(1) : message) }
  const path = message.slice(1)
  if (path === '') throw new UsageError('@ needs a file path: @path/to/file')
  const showBar = progress && ctx.stderr.isTTY === true && !ctx.json
  try {
    if (!showBar) return { payload: new Uint8Array(await readFile(path)) }
    let bar: Progress | undefined
    const payload = await readWithProgress(path, (done, total) => {
      if (total < PROGRESS_MIN_BYTES) return
      bar ??= new Progress(ctx.stderr, `reading ${path}`)
      bar.update(done, total)
    })
    return { payload, ...(bar !== undefined ? { bar } : {}) }
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

function parseTtl(ttl: string | undefined): number {
  if (ttl === undefined) return 0
  const n = Number(ttl)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--ttl must be a positive number of milliseconds (got '${ttl}')`)
  return n
}

export async function send(ctx: Ctx, peer: string, message: string, options: SendOptions): Promise<void> {
  const priority = parsePriority(options.priority)
  const ttlMs = parseTtl(options.ttl)
  const peerId = await resolvePeer(ctx, peer)
  const { payload, bar } = await payloadOf(ctx, message, options.progress)
  bar?.waiting(`SendMessage of ${bytes(payload.length)} in flight`)
  try {
    const res = await call(ctx, 'SendMessage', async (signal) =>
      ctx.client.sendMessage({ peerId, payload, priority, kind: options.kind ?? '', contentId: options.contentId ?? '', ttlMs }, { signal }),
    )
    bar?.stop()
    const human = `sent ${bytes(payload.length)} to ${shortId(peerId, ctx.wide)} at ${priorityName(priority)}: route ${routeName(res.route)}, nonce ${res.nonce}`
    print(ctx, human, { peerId, bytes: payload.length, priority: priorityName(priority), ...(nodeApi.SendMessageResponse.toJSON(res) as object) })
  } finally {
    bar?.stop()
  }
}

export interface BroadcastOptions {
  priority: string
  scope: string
  kind?: string
  contentId?: string
  progress: boolean
}

export async function broadcast(ctx: Ctx, message: string, options: BroadcastOptions): Promise<void> {
  const priority = parsePriority(options.priority)
  const scope = parseScope(options.scope)
  const { payload, bar } = await payloadOf(ctx, message, options.progress)
  bar?.waiting(`Broadcast of ${bytes(payload.length)} in flight`)
  try {
    const res = await call(ctx, 'Broadcast', async (signal) =>
      ctx.client.broadcast({ payload, priority, scope, kind: options.kind ?? '', contentId: options.contentId ?? '' }, { signal }),
    )
    bar?.stop()
    const human = `broadcast ${bytes(payload.length)} to ${options.scope} at ${priorityName(priority)}: first copy to ${res.sentTo} neighbor(s), nonce ${res.nonce}`
    print(ctx, human, { scope: options.scope, bytes: payload.length, priority: priorityName(priority), ...(nodeApi.BroadcastResponse.toJSON(res) as object) })
  } finally {
    bar?.stop()
  }
}

export async function discover(ctx: Ctx, target: string, options: { limit?: string }): Promise<void> {
  let t: common.DiscoveryTarget['target']
  if (target === 'random') t = { $case: 'random', value: true }
  else if (target.startsWith('group:') && target.length > 'group:'.length) t = { $case: 'group', value: target.slice('group:'.length) }
  else if (target.startsWith('group:')) throw new UsageError('group: needs a name (group:NAME)')
  else t = { $case: 'peerId', value: await resolvePeer(ctx, target) }
  const limit = options.limit === undefined ? 0 : Number(options.limit)
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit must be a whole number (got '${options.limit}')`)
  // The node bounds the search by timeout_ms; the call gets a little longer to bring the answer back.
  const res = await call(ctx, 'DiscoverPeers', async (signal) => ctx.client.discoverPeers({ target: { target: t }, limit, timeoutMs: ctx.timeoutMs }, { signal }), ctx.timeoutMs + 5000)
  const human =
    res.peers.length === 0
      ? '(nothing found)'
      : table(
          ['PEER', 'STATE', 'ADDRS', 'TAGS'],
          res.peers.map((p) => [
            shortId(p.peerId, ctx.wide),
            stateName(p.state),
            ctx.wide ? p.multiaddrs.join('\n') || '-' : p.multiaddrs.length === 0 ? '-' : `${p.multiaddrs[0]!.replace(/\/p2p\/[^/]+$/, '')}${p.multiaddrs.length > 1 ? ` (+${p.multiaddrs.length - 1})` : ''}`,
            p.tags.join(','),
          ]),
        )
  print(ctx, human, nodeApi.DiscoverPeersResponse.toJSON(res))
}

export interface WatchOptions {
  kinds?: string
  count?: string
  for?: string
}

const EVENT_KINDS = ['message', 'peer_state', 'peer_discovered', 'score_changed', 'message_expired']

/** Streams Subscribe until Ctrl-C, --count events or --for seconds; JSON lines with --json. */
export async function watch(ctx: Ctx, options: WatchOptions): Promise<void> {
  const kinds = options.kinds === undefined ? [] : options.kinds.split(',').map((k) => k.trim()).filter((k) => k !== '')
  for (const k of kinds) if (!EVENT_KINDS.includes(k)) throw new UsageError(`--kinds: unknown kind '${k}' (expected ${EVENT_KINDS.join(', ')})`)
  const count = options.count === undefined ? Infinity : Number(options.count)
  if (count !== Infinity && (!Number.isInteger(count) || count <= 0)) throw new UsageError(`--count must be a positive whole number (got '${options.count}')`)
  const forS = options.for === undefined ? undefined : Number(options.for)
  if (forS !== undefined && (!Number.isFinite(forS) || forS <= 0)) throw new UsageError(`--for must be a positive number of seconds (got '${options.for}')`)

  const stop = new AbortController()
  const signal = ctx.signal === undefined ? stop.signal : AbortSignal.any([ctx.signal, stop.signal])
  const timer = forS === undefined ? undefined : setTimeout(() => stop.abort(), forS * 1000)
  let seen = 0
  ctx.stderr.write(`watching ${ctx.addr} (${kinds.length > 0 ? kinds.join(', ') : 'all events'})${count !== Infinity ? `, ${count} event(s)` : ''}${forS !== undefined ? `, ${forS} s` : ''}; Ctrl-C to stop\n`)
  try {
    for await (const res of ctx.client.subscribe({ kinds }, { signal })) {
      if (res.event === undefined) continue
      ctx.stdout.write(ctx.json ? `${JSON.stringify(common.NodeEvent.toJSON(res.event))}\n` : `${eventLine(res.event, ctx.wide)}\n`)
      if (++seen >= count) break
    }
    if (seen < count && !signal.aborted) throw new ConnectionError(`the node ended the event stream after ${seen} event(s)`)
  } catch (err) {
    // Ctrl-C, or --for without --count: a normal end. --for with fewer than --count events: a failure.
    if (signal.aborted && isAbort(err)) {
      if (stop.signal.aborted && count !== Infinity && ctx.signal?.aborted !== true) throw new CallFailedError(`only ${seen} of ${count} event(s) within ${forS} s`)
      return
    }
    throw callFailure(err, 'Subscribe', 0)
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}
