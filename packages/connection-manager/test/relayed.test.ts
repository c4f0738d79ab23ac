import { describe, expect, it } from '@jest/globals'
import { multiaddr } from '@multiformats/multiaddr'
import { isRelayed } from '../src/index.js'

const relay = '12D3KooWRelay1111111111111111111111111111111111111111'
const peer = '12D3KooWPeer22222222222222222222222222222222222222222'

describe('isRelayed', () => {
  it('is false for a direct TCP connection without limits', () => {
    expect(isRelayed({ remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/4001') })).toBe(false)
  })

  it('is true for a circuit address even when the relay set no limits', () => {
    expect(isRelayed({ remoteAddr: multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${relay}/p2p-circuit/p2p/${peer}`) })).toBe(true)
  })

  it('is true whenever libp2p reports limits', () => {
    expect(isRelayed({ limits: { bytes: 1024n }, remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/4001') })).toBe(true)
  })
})
