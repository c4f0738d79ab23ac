// The JSON form of a CpcMessage in golden.json: proto field names, uint64 as decimal strings,
// bytes as lowercase hex, enums by name, every field present (defaults included).
import { Compression, MessageType, Priority, type CpcMessage } from '../../src/index.js'

export * from '../../src/index.js'

export function cpcMessageToVector(m: CpcMessage): Record<string, unknown> {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
  return {
    nonce: m.nonce.toString(),
    priority: Priority[m.priority] ?? m.priority,
    message_type: MessageType[m.messageType] ?? m.messageType,
    payload: hex(m.payload),
    signature: hex(m.signature),
    origin: hex(m.origin),
    timestamp_ms: m.timestampMs.toString(),
    ttl: m.ttl,
    compression: Compression[m.compression] ?? m.compression,
    chunk:
      m.chunk === undefined
        ? null
        : { message_id: m.chunk.messageId.toString(), index: m.chunk.index, count: m.chunk.count, total_bytes: m.chunk.totalBytes.toString() },
    group: m.group,
    expires_at_ms: m.expiresAtMs.toString(),
    recipient: hex(m.recipient),
    batch: m.batch === undefined ? null : { index: m.batch.index, count: m.batch.count, path: m.batch.path.map(hex) },
  }
}
