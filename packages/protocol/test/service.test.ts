import { describe, it, expect, beforeAll } from '@jest/globals'
import {
  CpcMessage,
  DEFAULT_MAX_FRAME_BYTES,
  MessageSigner,
  PROTOCOL_ID,
  BATCH_DOMAIN,
  createProtocolService,
  encodeFrame,
  encodeFrames,
} from '../src/index.js'
import { SEED_A, keyFromSeed } from './helpers.js'

const ctx = {} as never

let signer: MessageSigner
beforeAll(async () => {
  signer = new MessageSigner(await keyFromSeed(SEED_A))
})

function message(payload = new Uint8Array([1, 2, 3])): CpcMessage {
  return signer.sign(CpcMessage.fromPartial({ nonce: 7n, priority: 2, payload, timestampMs: 1000n }))
}

describe('ProtocolService', () => {
  it('GetProtocolInfo reports the protocol id, signing domain and configured limits', async () => {
    const svc = createProtocolService({ maxFrameBytes: 4096 })
    const info = await svc.getProtocolInfo({}, ctx)
    expect(info.protocolId).toBe(PROTOCOL_ID)
    expect(info.signingDomain).toBe(BATCH_DOMAIN)
    expect(info.maxFrameBytes).toBe(4096)
    expect(info.maxDecompressedBytes).toBeGreaterThan(0n)
    expect((await createProtocolService().getProtocolInfo({}, ctx)).maxFrameBytes).toBe(DEFAULT_MAX_FRAME_BYTES)
  })

  it('DecodeFrame decodes a signed frame and verifies it', async () => {
    const msg = message()
    const res = await createProtocolService().decodeFrame({ frame: encodeFrame(msg) }, ctx)
    expect(res.errorCode).toBe('')
    expect(res.signatureValid).toBe(true)
    expect(res.message?.nonce).toBe(7n)
    expect(res.message?.payload).toEqual(new Uint8Array([1, 2, 3]))
  })

  it('DecodeFrame reports a tampered signature, with the decoded message', async () => {
    const msg = { ...message(), payload: new Uint8Array([9]) }
    const res = await createProtocolService().decodeFrame({ frame: encodeFrame(msg) }, ctx)
    expect(res.signatureValid).toBe(false)
    expect(res.errorCode).toBe('ERR_INVALID_SIGNATURE')
    expect(res.message?.payload).toEqual(new Uint8Array([9]))
  })

  it('DecodeFrame rejects truncated, oversized, malformed and multi-frame input by code', async () => {
    const svc = createProtocolService({ maxFrameBytes: 64 })
    const frame = encodeFrame(message())
    expect((await svc.decodeFrame({ frame: frame.subarray(0, frame.length - 1) }, ctx)).errorCode).toBe('ERR_FRAME_TOO_LARGE')
    const big = createProtocolService()
    expect((await big.decodeFrame({ frame: frame.subarray(0, frame.length - 1) }, ctx)).errorCode).toBe('ERR_TRUNCATED_FRAME')
    expect((await big.decodeFrame({ frame: new Uint8Array([3, 0xff, 0xff, 0xff]) }, ctx)).errorCode).toBe('ERR_MALFORMED_FRAME')
    expect((await big.decodeFrame({ frame: encodeFrames([message(), message()]) }, ctx)).errorCode).toBe('ERR_MALFORMED_FRAME')
    expect((await big.decodeFrame({ frame: new Uint8Array() }, ctx)).errorCode).toBe('ERR_MALFORMED_FRAME')
  })
})
