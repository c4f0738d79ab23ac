// Builds the golden vectors in golden.json from fixed, test-only keys and fields. The golden test
// compares this output with the committed file; run `UPDATE_GOLDEN=1 node ../../tools/run-jest.mjs
// test/golden.test.ts` to rewrite it after an intended wire change (and say so in the commit).
import {
  CpcMessage,
  FrameDecoder,
  MessageSigner,
  MessageVerifier,
  NonceGenerator,
  ProtocolError,
  Reassembler,
  buildMessages,
  cpcMessageToVector,
  encodeFrame,
  encodeFrames,
  foldBatchPath,
  messageLeaf,
  openMessage,
  signingBytes,
} from './vector-json.js'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'

export const SEED_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
export const OTHER_SEED_HEX = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf'

export interface Vector {
  name: string
  description: string
  private_key_seed: string
  max_frame_bytes: number
  frames: string
  decode_error?: string
  messages?: Array<{ fields: Record<string, unknown>; signing_bytes: string; leaf: string; root: string | null; verify: string }>
  payload?: string
  open_error?: string
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
/** Nonces start, start + 1, ... whatever the real clock says. */
const fixedNonces = (start: bigint): NonceGenerator => new NonceGenerator({ clock: () => 0 }, { lastNonce: start - 1n })

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'ok'
  } catch (err) {
    if (err instanceof ProtocolError) return err.code
    throw err
  }
}

/** The root the message's proof folds to (its leaf without a proof), null if the proof cannot fold. */
function rootOf(m: CpcMessage): string | null {
  const leaf = messageLeaf(m)
  if (m.batch === undefined) return hex(leaf)
  try {
    return hex(foldBatchPath(leaf, m.batch.index, m.batch.count, m.batch.path))
  } catch (err) {
    if (err instanceof ProtocolError) return null
    throw err
  }
}

/** Decodes, verifies and opens frames exactly as a receiver would, recording every outcome. */
export function describeFrames(name: string, description: string, seedHex: string, frames: Uint8Array, maxFrameBytes = 1024 * 1024): Vector {
  const vector: Vector = { name, description, private_key_seed: seedHex, max_frame_bytes: maxFrameBytes, frames: hex(frames) }
  let msgs: CpcMessage[]
  try {
    const decoder = new FrameDecoder({ maxFrameBytes })
    msgs = decoder.push(frames)
    decoder.end()
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err
    vector.decode_error = err.code
    return vector
  }
  const verifier = new MessageVerifier()
  vector.messages = msgs.map((m) => ({
    fields: cpcMessageToVector(m),
    signing_bytes: hex(signingBytes(m)),
    leaf: hex(messageLeaf(m)),
    root: rootOf(m),
    verify: codeOf(() => verifier.verify(m)),
  }))
  const components = { verifier, reassembler: new Reassembler({ clock: () => 0 }) }
  try {
    for (const m of msgs) {
      const opened = openMessage(m, components)
      if (opened !== undefined) vector.payload = hex(opened.payload)
    }
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err
    vector.open_error = err.code
  }
  return vector
}

export async function buildVectors(): Promise<Vector[]> {
  const key = await generateKeyPairFromSeed('Ed25519', Buffer.from(SEED_HEX, 'hex'))
  const otherKey = await generateKeyPairFromSeed('Ed25519', Buffer.from(OTHER_SEED_HEX, 'hex'))
  const signer = new MessageSigner(key)
  const other = new MessageSigner(otherKey)
  const t = 1_700_000_000_000
  const n0 = BigInt(t) << 20n
  const text = new TextEncoder().encode('cpc-net golden vector payload. '.repeat(64))
  const vectors: Vector[] = []

  const [simple] = buildMessages({ type: 0, priority: 1, payload: new TextEncoder().encode('hello') }, signer, fixedNonces(n0), { now: t })
  vectors.push(describeFrames('event-minimal', 'Signed EVENT, MEDIUM priority, 5-byte payload, origin and timestamp set.', SEED_HEX, encodeFrame(simple)))

  const [full] = buildMessages(
    { type: 2, priority: 2, payload: Uint8Array.from([0x12, 0x04, 0x08, 0x01, 0x10, 0x02]), ttl: 3, group: 'devs', expiresAtMs: t + 60_000, recipient: other.peerIdBytes },
    signer,
    fixedNonces(n0 + 1n),
    { now: t },
  )
  vectors.push(describeFrames('control-all-fields', 'Signed CONTROL, HIGH, with ttl, group, expires_at_ms and recipient.', SEED_HEX, encodeFrame(full)))

  const [compressed] = buildMessages({ type: 0, priority: 0, payload: text }, signer, fixedNonces(n0 + 2n), { now: t })
  vectors.push(describeFrames('event-lz4', 'Signed EVENT whose 1984-byte payload is LZ4-compressed (varint size + LZ4 block).', SEED_HEX, encodeFrame(compressed)))

  const chunked = buildMessages({ type: 0, priority: 1, payload: text.subarray(0, 100) }, signer, fixedNonces(n0 + 3n), {
    now: t,
    chunkBytes: 40,
    compressionThresholdBytes: 1000,
  })
  vectors.push(describeFrames('event-chunked', 'A 100-byte payload split into 3 signed chunks of 40, 40 and 20 bytes (chunkBytes 40), in one buffer.', SEED_HEX, encodeFrames(chunked)))
  vectors.push(describeFrames('event-chunked-reordered', 'The same chunks in the order 2, 0, 0 (duplicate), 1: reassembles to the same payload.', SEED_HEX, encodeFrames([chunked[2], chunked[0], chunked[0], chunked[1]])))

  const unsigned = CpcMessage.fromPartial({ nonce: n0 + 10n, payload: Uint8Array.from([1]), origin: signer.peerIdBytes })
  vectors.push(describeFrames('reject-unsigned', 'A message without signature: decodes, fails verification with ERR_MISSING_SIGNATURE.', SEED_HEX, encodeFrame(unsigned)))

  const tampered = { ...simple, payload: new TextEncoder().encode('hellp') }
  vectors.push(describeFrames('reject-tampered', 'event-minimal with its payload changed after signing: ERR_INVALID_SIGNATURE.', SEED_HEX, encodeFrame(tampered)))

  const impostor = other.sign({ ...simple, signature: new Uint8Array(0), origin: signer.peerIdBytes })
  vectors.push(describeFrames('reject-wrong-key', 'Signed with the other test key but claiming the first key as origin: ERR_INVALID_SIGNATURE.', OTHER_SEED_HEX, encodeFrame(impostor)))

  vectors.push(describeFrames('reject-frame-too-large', 'A prefix declaring 1048577 bytes (maxFrameBytes + 1): rejected from the prefix alone.', SEED_HEX, Uint8Array.from([0x81, 0x80, 0x40])))
  vectors.push(describeFrames('reject-long-prefix', 'A 6-byte varint length prefix: ERR_MALFORMED_FRAME.', SEED_HEX, Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00])))
  vectors.push(describeFrames('reject-bad-wire-type', 'A body holding tag 0x0f (field 1, invalid wire type 7): ERR_MALFORMED_FRAME.', SEED_HEX, Uint8Array.from([0x02, 0x0f, 0x00])))
  vectors.push(describeFrames('reject-truncated', 'A prefix declaring 10 bytes followed by only 3: ERR_TRUNCATED_FRAME at end of stream.', SEED_HEX, Uint8Array.from([0x0a, 0x08, 0x01, 0x10])))

  const bomb = signer.sign(CpcMessage.fromPartial({ nonce: n0 + 11n, compression: 1, payload: Uint8Array.from([0x80, 0x80, 0x80, 0x40, 0x00]) }))
  vectors.push(describeFrames('reject-decompression-bomb', 'Signed LZ4 payload declaring 128 MiB decompressed (cap 64 MiB): ERR_DECOMPRESSED_TOO_LARGE.', SEED_HEX, encodeFrame(bomb)))

  const badChunk = signer.sign(CpcMessage.fromPartial({ nonce: n0 + 12n, payload: Uint8Array.from([1, 2]), chunk: { messageId: n0 + 12n, index: 3, count: 2, totalBytes: 4n } }))
  vectors.push(describeFrames('reject-chunk-index', 'Signed chunk with index 3 of count 2: ERR_INVALID_CHUNK.', SEED_HEX, encodeFrame(badChunk)))

  // Batch signatures: one Ed25519 signature over "cpc/1.0.0/batch" || Merkle root, a proof per message.
  const events = (from: bigint, k: number): CpcMessage[] =>
    Array.from({ length: k }, (_, i) =>
      CpcMessage.fromPartial({ nonce: from + BigInt(i), priority: 1, payload: new TextEncoder().encode(`event ${i}`), origin: signer.peerIdBytes, timestampMs: BigInt(t) }),
    )
  const [one] = signer.signBatch(events(n0 + 20n, 1))
  vectors.push(describeFrames('batch-k1', 'A batch of one: the root is the leaf, no batch field, Ed25519 over "cpc/1.0.0/batch" || leaf.', SEED_HEX, encodeFrame(one)))
  const two = signer.signBatch(events(n0 + 30n, 2))
  vectors.push(describeFrames('batch-k2', 'Two EVENTs signed under one root: root = SHA-256(0x01 || leaf0 || leaf1), one sibling each.', SEED_HEX, encodeFrames(two)))
  const three = signer.signBatch(events(n0 + 40n, 3))
  vectors.push(describeFrames('batch-k3', 'Three EVENTs: leaf 2 has no sibling at the bottom level and is promoted (path of 1 hash).', SEED_HEX, encodeFrames(three)))
  const sixteen = signer.signBatch(events(n0 + 50n, 16))
  vectors.push(describeFrames('batch-k16', 'Sixteen EVENTs under one root (the default maxSignBatch): 4 hashes per path.', SEED_HEX, encodeFrames(sixteen)))
  const chunkedBatch = buildMessages({ type: 0, priority: 1, payload: text.subarray(0, 100) }, signer, fixedNonces(n0 + 70n), {
    now: t,
    chunkBytes: 40,
    compressionThresholdBytes: 1000,
    maxBatch: 16,
  })
  vectors.push(describeFrames('batch-chunked', 'event-chunked with its 3 chunks signed as one batch (buildMessages maxBatch 16): reassembles.', SEED_HEX, encodeFrames(chunkedBatch)))

  const flip = (b: Uint8Array): Uint8Array => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x))
  const proof = three[0].batch as NonNullable<CpcMessage['batch']>
  vectors.push(
    describeFrames('reject-batch-tampered-leaf', 'batch-k3 message 1 with its payload changed: folds to another root, ERR_INVALID_SIGNATURE.', SEED_HEX, encodeFrame({ ...three[1], payload: new TextEncoder().encode('event X') })),
  )
  vectors.push(
    describeFrames('reject-batch-tampered-path', 'batch-k3 message 0 with one bit of its first sibling flipped: ERR_INVALID_SIGNATURE.', SEED_HEX, encodeFrame({ ...three[0], batch: { ...proof, path: [flip(proof.path[0]), ...proof.path.slice(1)] } })),
  )
  vectors.push(
    describeFrames('reject-batch-wrong-index', 'batch-k3 message 0 claiming index 1 (same path length, sides swapped): ERR_INVALID_SIGNATURE.', SEED_HEX, encodeFrame({ ...three[0], batch: { ...proof, index: 1 } })),
  )
  vectors.push(
    describeFrames('reject-batch-index-out-of-range', 'batch-k3 message 0 claiming index 3 of count 3: ERR_INVALID_BATCH_PROOF.', SEED_HEX, encodeFrame({ ...three[0], batch: { ...proof, index: 3 } })),
  )
  vectors.push(
    describeFrames('reject-batch-path-length', 'batch-k3 message 0 with its last path hash dropped: ERR_INVALID_BATCH_PROOF.', SEED_HEX, encodeFrame({ ...three[0], batch: { ...proof, path: proof.path.slice(0, 1) } })),
  )
  vectors.push(
    describeFrames('reject-batch-count', 'A proof declaring count 65 (receivers accept at most 64): ERR_INVALID_BATCH_PROOF.', SEED_HEX, encodeFrame({ ...three[0], batch: { index: 0, count: 65, path: proof.path } })),
  )
  return vectors
}
