// DISCOVERY payloads: decode with every bound checked, so a peer cannot make us allocate or work
// beyond the configured limits.
import { Discovery } from '@cpc/protocol'
import { MAX_GROUP_NAME_BYTES, MAX_JOINED_GROUPS } from '../constants.js'
import { MalformedDiscoveryMessageError, OversizedDiscoveryMessageError } from '../errors.js'
import type { PeerInfo } from '@cpc/protocol'

/** Bounds of a DISCOVERY payload (see constants.ts for the defaults). */
export interface PexLimits {
  maxPeers: number
  maxPayloadBytes: number
  maxAddrsPerPeer: number
  maxRecordBytes: number
}

/** Peer ids are multihashes: identity-hashed Ed25519 keys are 38 bytes, sha256 ones 34. */
const MAX_PEER_ID_BYTES = 128
const MAX_MULTIADDR_BYTES = 512
const MAX_PROTOCOLS = 32

export function encodeDiscovery(message: Discovery): Uint8Array {
  return Discovery.encode(message).finish()
}

function checkPeerInfo(info: PeerInfo, limits: PexLimits, where: string): void {
  if (info.peerId.length === 0 || info.peerId.length > MAX_PEER_ID_BYTES) {
    throw new MalformedDiscoveryMessageError(`${where}: peer id of ${info.peerId.length} bytes`)
  }
  if (info.multiaddrs.length > limits.maxAddrsPerPeer) {
    throw new OversizedDiscoveryMessageError(`${where}: ${info.multiaddrs.length} multiaddrs, max ${limits.maxAddrsPerPeer}`)
  }
  if (info.multiaddrs.some((m) => m.length > MAX_MULTIADDR_BYTES)) throw new OversizedDiscoveryMessageError(`${where}: multiaddr too long`)
  if (info.protocols.length > MAX_PROTOCOLS) throw new OversizedDiscoveryMessageError(`${where}: ${info.protocols.length} protocols`)
  if (info.signedRecord.length > limits.maxRecordBytes) {
    throw new OversizedDiscoveryMessageError(`${where}: signed record of ${info.signedRecord.length} bytes, max ${limits.maxRecordBytes}`)
  }
  if (!Number.isFinite(info.scoreHint)) throw new MalformedDiscoveryMessageError(`${where}: score hint is not finite`)
}

function checkGroups(groups: string[]): void {
  if (groups.length > MAX_JOINED_GROUPS) throw new OversizedDiscoveryMessageError(`${groups.length} groups, max ${MAX_JOINED_GROUPS}`)
  if (groups.some((g) => g.length > MAX_GROUP_NAME_BYTES)) throw new OversizedDiscoveryMessageError('Group name too long')
}

/**
 * Decodes and validates a DISCOVERY payload. Throws OversizedDiscoveryMessageError above a bound
 * (checked before decoding for the byte size) and MalformedDiscoveryMessageError for anything that
 * is not a well-formed Discovery.
 */
export function decodeDiscovery(payload: Uint8Array, limits: PexLimits): Discovery {
  if (payload.length > limits.maxPayloadBytes) {
    throw new OversizedDiscoveryMessageError(`DISCOVERY payload of ${payload.length} bytes, max ${limits.maxPayloadBytes}`)
  }
  let message: Discovery
  try {
    message = Discovery.decode(payload)
  } catch (err) {
    throw new MalformedDiscoveryMessageError(`Invalid Discovery payload: ${(err as Error).message}`, { cause: err })
  }
  const kind = message.kind
  if (kind === undefined) throw new MalformedDiscoveryMessageError('Discovery payload has no kind')
  switch (kind.$case) {
    case 'request':
      checkGroups(kind.value.groups)
      break
    case 'response':
      if (kind.value.peers.length > limits.maxPeers) {
        throw new OversizedDiscoveryMessageError(`${kind.value.peers.length} peers in a response, max ${limits.maxPeers}`)
      }
      kind.value.peers.forEach((p, i) => checkPeerInfo(p, limits, `peers[${i}]`))
      break
    case 'announce':
      if (kind.value.self === undefined) throw new MalformedDiscoveryMessageError('Announce without a peer record')
      checkPeerInfo(kind.value.self, limits, 'announce')
      checkGroups(kind.value.groups)
      break
  }
  return message
}
