// P2: small-message rate. Ceilings measured in the same run: Node's raw Ed25519 sign rate over the
// bytes a signed 256 B EVENT frame carries (every EVENT is signed, so signing bounds it), and a bare
// libp2p stream of 256 B length-prefixed messages, 64 per send (and one per send, for context).
import crypto from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { CpcMessage, MessageSigner, MessageType, NonceGenerator, Priority, encodeFrame } from '@cpc/protocol'
import { errorRow, guard, median, missing, rate, versus, type BenchOptions, type Row } from '../harness.js'
import { startPair } from './pair.js'
import { cpcPath, ours } from './ours.js'

/** Raw node:crypto Ed25519 signatures per second over a buffer the size of a signed 256 B EVENT frame. */
export async function rawSignRate(ms: number): Promise<{ rate: number; verify: number; bytes: number }> {
  const signer = new MessageSigner(await generateKeyPair('Ed25519'))
  const msg = CpcMessage.fromPartial({
    priority: Priority.MEDIUM,
    messageType: MessageType.EVENT,
    payload: crypto.randomBytes(256),
    timestampMs: BigInt(Date.now()),
  })
  const bytes = encodeFrame(signer.sign({ ...msg, nonce: new NonceGenerator().next() })).byteLength
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
  const sample = crypto.randomBytes(bytes)
  const sig = crypto.sign(null, sample, privateKey)
  return {
    rate: rate(() => crypto.sign(null, sample, privateKey), ms),
    verify: rate(() => crypto.verify(null, sample, publicKey, sig), ms),
    bytes,
  }
}

export async function p2(opts: BenchOptions): Promise<Row[]> {
  const batched = opts.quick ? 10_000 : 300_000
  const single = opts.quick ? 2_000 : 20_000
  const rounds = opts.quick ? 1 : 3
  const pair = await startPair('p2', opts)
  const b: number[] = []
  const s: number[] = []
  const sign: number[] = []
  const verify: number[] = []
  let signBytes = 0
  try {
    await pair.sender.call(
      'lp-send',
      { addr: pair.addr, count: Math.min(batched, opts.quick ? 2000 : 20_000), size: 256, batch: 64 },
      60_000,
    )
    for (let r = 0; r < rounds; r++) {
      const x = await rawSignRate(opts.quick ? 100 : 1000)
      sign.push(x.rate)
      verify.push(x.verify)
      signBytes = x.bytes
      const t = await pair.sender.call<{ ms: number }>('lp-send', { addr: pair.addr, count: batched, size: 256, batch: 64 }, 120_000)
      b.push(batched / (t.ms / 1000))
      const u = await pair.sender.call<{ ms: number }>('lp-send', { addr: pair.addr, count: single, size: 256, batch: 1 }, 120_000)
      s.push(single / (u.ms / 1000))
    }
  } finally {
    await pair.close()
  }
  const signRate = median(sign)
  const bareBatched = median(b)
  const rows: Row[] = [
    { id: 'P2.sign', what: `node:crypto Ed25519 sign, ${signBytes} B (a signed 256 B EVENT frame)`, value: signRate, unit: 'msgs/s' },
    { id: 'P2.verify', what: `node:crypto Ed25519 verify, ${signBytes} B (the receiver's ceiling)`, value: median(verify), unit: 'msgs/s' },
    {
      id: 'P2.lp64',
      what: 'bare libp2p stream, 256 B length-prefixed, 64 per send',
      value: bareBatched,
      unit: 'msgs/s',
      note: `${batched} messages one way, median of ${rounds} round(s)`,
    },
    versus('P2.lp1', 'bare libp2p stream, 256 B length-prefixed, 1 per send', median(s), 'msgs/s', {
      what: 'bare, 64 per send',
      value: bareBatched,
    }),
  ]
  const signed = await guard(ours.p2signed?.({ ...opts, count: opts.quick ? 1500 : 20_000 }))
  const sb = { what: 'raw sign rate', value: signRate }
  const api = (await cpcPath()) === 'NetworkHandler' ? 'NetworkHandler.sendMessage' : 'Router.send'
  const w1 = `cpc-net signed 256 B EVENTs one way (${api} each, verified on receipt)`
  rows.push(
    signed instanceof Error
      ? errorRow('P2', w1, signed)
      : signed === undefined
        ? missing('P2', w1, 'pending', { unit: 'msgs/s', baseline: sb, target: '>= 0.80x', note: 'needs NetworkHandler (@cpc/network)' })
        : versus('P2', w1, signed, 'msgs/s', sb, 0.8),
  )
  const control = await guard(ours.p2control?.({ ...opts, count: batched }))
  const cb = { what: 'bare, 64 per send', value: bareBatched }
  const w2 = 'cpc-net CONTROL frames one way (channel, no per-message signing)'
  rows.push(
    control instanceof Error
      ? errorRow('P2.ctl', w2, control)
      : control === undefined
        ? missing('P2.ctl', w2, 'pending', { unit: 'msgs/s', baseline: cb, target: '>= 0.80x', note: 'needs Router/NetworkHandler' })
        : versus('P2.ctl', w2, control, 'msgs/s', cb, 0.8),
  )
  return rows
}
