// Validation of persisted state: importState() accepts only what exportState() could have written.
import { STATE_VERSION } from './constants.js'
import { InvalidScoringStateError } from './errors.js'
import type { PeerStateJSON, ScoringStateJSON } from './types.js'

const NUMBER_FIELDS = ['atMs', 'upMs', 'downMs', 'respGood', 'respBad', 'stabGood', 'stabBad', 'penalty', 'firstSeenMs'] as const
const MODES = new Set(['up', 'down', 'idle'])

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

export function parsePeerState(x: unknown, index: number): PeerStateJSON {
  if (!isRecord(x)) throw new InvalidScoringStateError(`peers[${index}] is not an object`)
  if (typeof x.peerId !== 'string' || x.peerId === '') throw new InvalidScoringStateError(`peers[${index}].peerId is not a non-empty string`)
  if (typeof x.mode !== 'string' || !MODES.has(x.mode)) throw new InvalidScoringStateError(`peers[${index}].mode is invalid`)
  for (const f of NUMBER_FIELDS) {
    const v = x[f]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidScoringStateError(`peers[${index}].${f} is not a finite number >= 0`)
  }
  const out = { peerId: x.peerId, mode: x.mode } as PeerStateJSON
  for (const f of NUMBER_FIELDS) out[f] = x[f] as number
  return out
}

export function parseState(x: unknown): ScoringStateJSON {
  if (!isRecord(x)) throw new InvalidScoringStateError('state is not an object')
  if (x.version !== STATE_VERSION) throw new InvalidScoringStateError(`unsupported state version ${String(x.version)}`)
  if (typeof x.savedAtMs !== 'number' || !Number.isFinite(x.savedAtMs)) throw new InvalidScoringStateError('savedAtMs is not a finite number')
  if (!Array.isArray(x.peers)) throw new InvalidScoringStateError('peers is not an array')
  return { version: STATE_VERSION, savedAtMs: x.savedAtMs, peers: x.peers.map(parsePeerState) }
}
