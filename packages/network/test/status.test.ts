import { describe, expect, it } from '@jest/globals'
import { multiaddr } from '@multiformats/multiaddr'
import { reachability } from '../src/status.js'

const peer = '12D3KooWGRUVh5o4r8VqW6xkJYwGdwMsaYH5XG8KqT1bAUnkB4xF'
const wan = multiaddr(`/ip4/203.0.113.7/tcp/4002/p2p/${peer}`)
const lan = multiaddr(`/ip4/10.1.0.2/tcp/4001/p2p/${peer}`)
const circuit = multiaddr(`/ip4/198.51.100.1/tcp/4001/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq/p2p-circuit/p2p/${peer}`)

describe('reachability', () => {
  it('is public with a direct public address', () => {
    expect(reachability([lan, wan])).toBe('public')
  })

  it('does not count the NAT mapping announced for hole punching (nat.announce) as public', () => {
    expect(reachability([lan, wan, circuit], ['/ip4/203.0.113.7/tcp/4002'])).toBe('private')
    expect(reachability([lan, wan], ['/ip4/203.0.113.7/tcp/4002'])).toBe('unknown')
  })

  it('still reports another public address as public', () => {
    expect(reachability([wan, circuit], ['/ip4/203.0.113.8/tcp/4002'])).toBe('public')
  })
})
