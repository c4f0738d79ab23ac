// PeerInfo entries: built from the peer store (with identify's signed peer record) and verified on
// receipt (envelope signature, and the record's peer id must be the entry's peer id).
import { peerIdFromMultihash, peerIdFromPublicKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { PeerInfo } from '@cpc/protocol'
import type { Peer, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { InvalidPeerRecordError, MalformedDiscoveryMessageError } from '../errors.js'
import type { PexLimits } from './codec.js'

/** A peer learned through peer exchange, after verification. */
export interface VerifiedPeer {
  peerId: PeerId
  multiaddrs: Multiaddr[]
  scoreHint: number
  /** The signed record it came with (certified addresses), if any. */
  envelope?: Uint8Array
}

/** A PeerInfo for a peer-store entry, or undefined if it has nothing worth sharing. */
export function toPeerInfo(peer: Peer, scoreHint: number, limits: PexLimits, nowMs: number): PeerInfo | undefined {
  const multiaddrs = peer.addresses.slice(0, limits.maxAddrsPerPeer).map((a) => a.multiaddr.bytes)
  if (multiaddrs.length === 0) return undefined
  const record = peer.peerRecordEnvelope
  return PeerInfo.create({
    peerId: peer.id.toMultihash().bytes,
    multiaddrs,
    protocols: [],
    scoreHint: Number.isFinite(scoreHint) ? scoreHint : 0,
    signedRecord: record !== undefined && record.length <= limits.maxRecordBytes ? record : new Uint8Array(0),
    seenAtMs: BigInt(Math.max(0, Math.floor(nowMs))),
  })
}

export function peerIdFromBytes(bytes: Uint8Array): PeerId {
  try {
    return peerIdFromMultihash(Digest.decode(bytes))
  } catch (err) {
    throw new MalformedDiscoveryMessageError('Invalid peer id in PeerInfo', { cause: err })
  }
}

/**
 * Verifies one entry. With a signed record, its addresses are the record's (certified); without
 * one, the entry is returned only if `allowUnsigned`, with its plain addresses.
 */
export async function verifyPeerInfo(info: PeerInfo, allowUnsigned: boolean, options: { signal?: AbortSignal } = {}): Promise<VerifiedPeer | undefined> {
  const peerId = peerIdFromBytes(info.peerId)
  if (info.signedRecord.length > 0) {
    let envelope: RecordEnvelope
    let record: PeerRecord
    try {
      envelope = await RecordEnvelope.openAndCertify(info.signedRecord, PeerRecord.DOMAIN, options)
      record = PeerRecord.createFromProtobuf(envelope.payload)
    } catch (err) {
      throw new InvalidPeerRecordError(`Signed record of ${peerId.toString()} does not verify`, { cause: err })
    }
    const signer = peerIdFromPublicKey(envelope.publicKey)
    if (!signer.equals(record.peerId) || !record.peerId.equals(peerId)) {
      throw new InvalidPeerRecordError(`Signed record does not belong to ${peerId.toString()}`)
    }
    return { peerId, multiaddrs: record.multiaddrs, scoreHint: info.scoreHint, envelope: info.signedRecord }
  }
  if (!allowUnsigned) return undefined
  let multiaddrs: Multiaddr[]
  try {
    multiaddrs = info.multiaddrs.map((bytes) => multiaddr(bytes))
  } catch (err) {
    throw new MalformedDiscoveryMessageError(`Invalid multiaddr for ${peerId.toString()}`, { cause: err })
  }
  return { peerId, multiaddrs, scoreHint: info.scoreHint }
}
