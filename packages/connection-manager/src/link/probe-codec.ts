// UDP probe datagrams: fixed 56 bytes, both kinds the same size so an echo never amplifies a probe.
//
//   0      version (1)          1      kind (1 = probe, 2 = echo)
//   2..3   magic "CP"           4..11  session id (chosen by the probe receiver, 8 bytes)
//   12..15 seq (uint32 BE)      16..23 sender timestamp ms (uint64 BE)
//   echo only (zero in probes), the echoer's counts of this session's probes:
//   24..27 received, window     28..31 expected, window
//   32..35 received, total      36..39 expected, total (since the session began)
//   40..55 HMAC-SHA256(key, bytes 0..39) truncated to 16 bytes
import { createHmac, timingSafeEqual } from 'node:crypto'

export const PROBE_DATAGRAM_BYTES = 56
export const PROBE_ID_BYTES = 8
export const PROBE_KEY_BYTES = 32
const VERSION = 1
const MAGIC0 = 0x43
const MAGIC1 = 0x50
const MAC_OFFSET = 40
const MAC_BYTES = 16

export enum ProbeKind {
  Probe = 1,
  Echo = 2,
}

export interface ProbeDatagram {
  kind: ProbeKind
  id: Uint8Array
  seq: number
  timestampMs: number
  /** Echo only: probes the echoer received of this session's window. */
  received: number
  /** Echo only: probes the sequence numbers say were sent over the same window. */
  expected: number
  /** Echo only: as `received`, since the session began (for per-period deltas). */
  totalReceived: number
  /** Echo only: as `expected`, since the session began. */
  totalExpected: number
}

function mac(key: Uint8Array, body: Uint8Array): Buffer {
  return createHmac('sha256', key).update(body).digest().subarray(0, MAC_BYTES)
}

export function encodeProbe(d: ProbeDatagram, key: Uint8Array): Uint8Array {
  const buf = Buffer.alloc(PROBE_DATAGRAM_BYTES)
  buf[0] = VERSION
  buf[1] = d.kind
  buf[2] = MAGIC0
  buf[3] = MAGIC1
  buf.set(d.id.subarray(0, PROBE_ID_BYTES), 4)
  buf.writeUInt32BE(d.seq >>> 0, 12)
  buf.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(d.timestampMs))), 16)
  buf.writeUInt32BE(d.received >>> 0, 24)
  buf.writeUInt32BE(d.expected >>> 0, 28)
  buf.writeUInt32BE(d.totalReceived >>> 0, 32)
  buf.writeUInt32BE(d.totalExpected >>> 0, 36)
  mac(key, buf.subarray(0, MAC_OFFSET)).copy(buf, MAC_OFFSET)
  return buf
}

/** The session id of a datagram that looks like ours, or undefined (wrong size, version, magic). */
export function peekProbeId(buf: Uint8Array): Uint8Array | undefined {
  if (buf.length !== PROBE_DATAGRAM_BYTES || buf[0] !== VERSION || buf[2] !== MAGIC0 || buf[3] !== MAGIC1) return undefined
  if (buf[1] !== ProbeKind.Probe && buf[1] !== ProbeKind.Echo) return undefined
  return buf.subarray(4, 4 + PROBE_ID_BYTES)
}

/** Verifies the MAC under `key` and decodes; undefined when the datagram is not authentic. */
export function decodeProbe(buf: Uint8Array, key: Uint8Array): ProbeDatagram | undefined {
  if (peekProbeId(buf) === undefined) return undefined
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const expectedMac = mac(key, b.subarray(0, MAC_OFFSET))
  if (!timingSafeEqual(expectedMac, b.subarray(MAC_OFFSET, MAC_OFFSET + MAC_BYTES))) return undefined
  return {
    kind: b[1] as ProbeKind,
    id: Uint8Array.from(b.subarray(4, 4 + PROBE_ID_BYTES)),
    seq: b.readUInt32BE(12),
    timestampMs: Number(b.readBigUInt64BE(16)),
    received: b.readUInt32BE(24),
    expected: b.readUInt32BE(28),
    totalReceived: b.readUInt32BE(32),
    totalExpected: b.readUInt32BE(36),
  }
}

export function idKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex')
}
