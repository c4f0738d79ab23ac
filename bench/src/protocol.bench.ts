// Protocol micro-benchmarks: framing, signing against Node's raw Ed25519, LZ4.
import crypto from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import {
  CpcMessage,
  Compression,
  FrameDecoder,
  MessageSigner,
  MessageType,
  MessageVerifier,
  NonceGenerator,
  Priority,
  compressPayload,
  encodeFrame,
  lz4CompressBlock,
  lz4DecompressBlock,
} from '@cpc/protocol'
import { interleaved, rate, versus, type BenchOptions, type Row } from './harness.js'

export async function protocolBench(opts: BenchOptions): Promise<Row[]> {
  const ms = opts.quick ? 60 : 1500
  const rows: Row[] = []
  const key = await generateKeyPair('Ed25519')
  const signer = new MessageSigner(key)
  const verifier = new MessageVerifier()
  const nonces = new NonceGenerator()
  const payload = crypto.randomBytes(256)
  const base = CpcMessage.fromPartial({
    priority: Priority.MEDIUM,
    messageType: MessageType.EVENT,
    payload,
    timestampMs: BigInt(Date.now()),
  })

  // Raw Ed25519 over the same number of bytes the signer signs: the ceiling for signed messages.
  const signed = signer.sign({ ...base, nonce: nonces.next() })
  const frame = encodeFrame(signed)
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
  const sample = crypto.randomBytes(frame.byteLength)
  const rawSig = crypto.sign(null, sample, privateKey)
  const r = interleaved(
    {
      rawSign: () => crypto.sign(null, sample, privateKey),
      sign: () => signer.sign({ ...base, nonce: nonces.next() }),
      rawVerify: () => crypto.verify(null, sample, publicKey, rawSig),
      verify: () => verifier.verify(signed),
    },
    ms * 4,
  )
  const { rawSign, rawVerify } = r
  rows.push({ id: 'E1', what: `node:crypto Ed25519 sign (${sample.byteLength} B)`, value: rawSign, unit: 'ops/s' })
  rows.push({ id: 'E2', what: `node:crypto Ed25519 verify (${sample.byteLength} B)`, value: rawVerify, unit: 'ops/s' })

  rows.push(versus('S1', 'CpcMessage sign (256 B EVENT)', r.sign, 'ops/s', { what: 'raw sign', value: rawSign }, 0.8))
  rows.push(versus('S2', 'CpcMessage verify (256 B EVENT)', r.verify, 'ops/s', { what: 'raw verify', value: rawVerify }, 0.8))

  // Framing: encode and streaming decode of signed 256 B EVENTs.
  const encRate = rate(() => encodeFrame(signed), ms)
  const batch = new Uint8Array(frame.byteLength * 64)
  for (let i = 0; i < 64; i++) batch.set(frame, i * frame.byteLength)
  const decoder = new FrameDecoder()
  const decBatchRate = rate(() => decoder.push(batch), ms) * 64
  rows.push({ id: 'F1', what: 'frame encode (signed 256 B EVENT)', value: encRate, unit: 'frames/s' })
  rows.push({ id: 'F2', what: 'frame decode, 64 frames per chunk', value: decBatchRate, unit: 'frames/s' })

  // LZ4 on compressible text (words of a social feed) and on random bytes. The block codec is timed
  // on both; compressPayload on random bytes shows the cost of deciding to send the payload as is.
  const words = [
    'the',
    'post',
    'reply',
    'photo',
    'friend',
    'today',
    'great',
    'event',
    'link',
    'city',
    'music',
    'new',
    'love',
    'see',
    'you',
    'at',
  ]
  let seed = 7
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
  const text = Buffer.from(Array.from({ length: 16 * 1024 }, () => words[Math.floor(rnd() * words.length)]).join(' ')).subarray(
    0,
    64 * 1024,
  )
  const random = crypto.randomBytes(64 * 1024)
  for (const [id, name, data] of [
    ['Z1', 'feed text', text],
    ['Z2', 'random bytes', random],
  ] as const) {
    const block = lz4CompressBlock(data)
    const cRate = rate(() => lz4CompressBlock(data), ms)
    const dRate = rate(() => lz4DecompressBlock(block, data.byteLength), ms)
    const mb = (r: number) => (r * data.byteLength) / 1e6
    rows.push({
      id: `${id}c`,
      what: `LZ4 compress 64 KiB ${name} (size ratio ${(block.byteLength / data.byteLength).toFixed(2)})`,
      value: mb(cRate),
      unit: 'MB/s',
    })
    rows.push({ id: `${id}d`, what: `LZ4 decompress 64 KiB ${name}`, value: mb(dRate), unit: 'MB/s' })
  }
  const decide = compressPayload(random)
  rows.push({
    id: 'Z3',
    what: `compressPayload 64 KiB random (sent as ${Compression[decide.compression]})`,
    value: (rate(() => compressPayload(random), ms) * random.byteLength) / 1e6,
    unit: 'MB/s',
  })
  return rows
}
