// Batch signatures between real nodes (docs/design/batch-signatures.md): a writer signs the frames
// of one write under one Merkle root, receivers verify each message alone (proof + root signature)
// and verify a root once; a batched broadcast is forwarded unchanged and verifies at the third hop.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { encodeFrame, type CpcMessage } from '@cpc/protocol'
import type { DeliveredMessage } from '../src/types.js'
import { record } from './helpers/events.js'
import { createRouterStack, link, stopAll, type RouterStack } from './helpers/stack.js'

async function metric(stack: RouterStack, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await stack.registry.getSingleMetric(name)?.get()
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0)
}

describe('Router batch signatures (A - B - C, real nodes)', () => {
  const stacks: RouterStack[] = []
  let delivered: Array<ReturnType<typeof record<DeliveredMessage>>> = []
  // What each router verified: the messages as they came off the wire, proofs included.
  const wire: CpcMessage[][] = [[], [], []]

  beforeAll(async () => {
    // Small chunks, so a broadcast is a few chunks signed as one batch.
    for (let i = 0; i < 3; i++) stacks.push(await createRouterStack({ routerInit: { chunkBytes: 1024 } }))
    await link(stacks[0], stacks[1])
    await link(stacks[1], stacks[2])
    delivered = stacks.map((s) => record<DeliveredMessage>(s.router, 'message'))
    stacks.forEach((s, i) => {
      const verify = s.verifier.verify.bind(s.verifier)
      jest.spyOn(s.verifier, 'verify').mockImplementation((msg, expected) => {
        wire[i].push(msg)
        return verify(msg, expected)
      })
    })
  }, 60_000)

  afterAll(async () => {
    await stopAll(stacks)
  })

  it('sends queued together share a root: every message delivered, the root verified once per batch', async () => {
    const [a, b] = stacks
    const payloads = Array.from({ length: 40 }, (_, i) => new TextEncoder().encode(`batched ${i}`))
    const results = await Promise.all(payloads.map(async (p) => a.router.send(b.peerId, p)))
    const nonces = new Set(results.map((r) => r.nonce))
    await delivered[1].until((e) => e.filter((m) => nonces.has(m.nonce)).length === payloads.length)
    const got = delivered[1].events.filter((m) => nonces.has(m.nonce)).map((m) => new TextDecoder().decode(m.payload))
    expect(got.sort()).toEqual(payloads.map((p) => new TextDecoder().decode(p)).sort())

    const onWire: CpcMessage[] = wire[1].filter((m) => nonces.has(m.nonce))
    const batched = onWire.filter((m) => m.batch !== undefined)
    expect(batched.length).toBeGreaterThan(0)
    expect(Math.max(...batched.map((m) => m.batch?.count ?? 0))).toBeLessThanOrEqual(16)
    const roots = new Set(onWire.map((m) => Buffer.from(m.signature).toString('hex')))
    expect(roots.size).toBeLessThan(payloads.length)
    // One Ed25519 verification per signature seen, every other message from the roots cache.
    expect(await metric(b, 'cpc_router_verify_total', { result: 'verified' })).toBeGreaterThanOrEqual(roots.size)
    expect(await metric(b, 'cpc_router_verify_total', { result: 'cached' })).toBe(payloads.length - roots.size)
    expect(await metric(a, 'cpc_router_batch_signed_frames_total')).toBeGreaterThanOrEqual(payloads.length)
    expect(await metric(a, 'cpc_router_sign_batches_total')).toBe(roots.size)
  }, 60_000)

  it('a batched broadcast is forwarded unchanged and verifies at the third hop', async () => {
    const [a, , c] = stacks
    const payload = new Uint8Array(randomBytes(5000)) // incompressible: 5 chunks of <= 1024 B
    const result = await a.router.broadcast(payload, { scope: { kind: 'all' } })
    expect(result.sentTo).toBe(1)
    await delivered[2].until((e) => e.some((m) => m.nonce === result.nonce))
    const got = delivered[2].events.find((m) => m.nonce === result.nonce) as DeliveredMessage
    expect(got.origin).toBe(a.peerId.toString())
    expect(got.from).toBe(stacks[1].peerId.toString())
    expect(Buffer.from(got.payload).equals(Buffer.from(payload))).toBe(true)
    // C received the origin's chunks with their proofs, relayed by B without re-signing.
    const chunks = wire[2].filter((m) => m.chunk?.messageId === result.nonce)
    expect(chunks).toHaveLength(5)
    expect(chunks.every((m) => m.batch?.count === 5)).toBe(true)
    expect(chunks.every((m) => Buffer.from(m.origin).equals(Buffer.from(a.peerId.toMultihash().bytes)))).toBe(true)
    expect(new Set(chunks.map((m) => Buffer.from(m.signature).toString('hex'))).size).toBe(1)
    expect(await metric(c, 'cpc_router_verify_total', { result: 'cached' })).toBeGreaterThanOrEqual(4)
    expect(await metric(c, 'cpc_router_rejected_total', { reason: 'invalid_signature' })).toBe(0)
  }, 60_000)

  it('a tampered batched frame or an impossible proof is rejected as invalid_signature (the reason that costs the sender its penalty)', async () => {
    const [a, b] = stacks
    const [m0, m1] = a.signer.signBatch(
      [0, 1].map((i) => ({ ...emptyEvent(), nonce: a.nonces.next(), payload: Uint8Array.of(i), recipient: b.peerId.toMultihash().bytes })),
    )
    const rejected = record<{ reason: string; code: string }>(b.router, 'message:rejected')
    await a.channel.send(b.peerId, [encodeFrame({ ...m1, payload: Uint8Array.of(9) }), encodeFrame({ ...m0, batch: { ...(m0.batch as NonNullable<CpcMessage['batch']>), count: 65 } })])
    await rejected.until((e) => e.length >= 2)
    expect(rejected.events.map((e) => e.code).sort()).toEqual(['ERR_INVALID_BATCH_PROOF', 'ERR_INVALID_SIGNATURE'])
    expect(rejected.events.every((e) => e.reason === 'invalid_signature')).toBe(true)
  }, 60_000)
})

function emptyEvent(): CpcMessage {
  return {
    nonce: 0n,
    priority: 1,
    messageType: 0,
    payload: new Uint8Array(0),
    signature: new Uint8Array(0),
    origin: new Uint8Array(0),
    timestampMs: BigInt(Date.now()),
    ttl: 0,
    compression: 0,
    chunk: undefined,
    group: '',
    expiresAtMs: 0n,
    recipient: new Uint8Array(0),
    batch: undefined,
  }
}
