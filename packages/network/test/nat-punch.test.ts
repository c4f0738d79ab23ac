// Hole punching (nat.punchPort): the config and the TCP dial wrapper's choices (which dials leave from
// the punch port, which run the upgrade as the responder), against a fake inner transport.
import { describe, expect, it } from '@jest/globals'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { DialTransportOptions, Transport, Upgrader } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { parseConfig } from '../src/config.js'
import { ConfigError } from '../src/errors.js'
import { libp2pOptions } from '../src/libp2p-node.js'
import { choosePunchDial, DCUTR_DIAL_PRIORITY, punchPortTransport } from '../src/nat/punch-port-tcp.js'

const RELAY_ID = '12D3KooWGRUVh9SScstDSVtngkP2Y8xkovJJWJXAQdKV2xRgDuZE'
const RELAY = `/ip4/172.32.0.3/tcp/4001/p2p/${RELAY_ID}`
const LOW = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const HIGH = '12D3KooWzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'
const MID = '12D3KooWmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm'

interface Seen {
  ma: string
  options: DialTransportOptions & { localPort?: number; initiator?: boolean; priority?: number }
}

/** A fake transport recording each dial's options; punchPortTransport wraps it with our id MID. */
function fakeTransport(): { transport: Transport; seen: Seen[] } {
  const seen: Seen[] = []
  const inner = (): Transport =>
    ({
      dial: async (ma: Multiaddr, options: Seen['options']) => {
        seen.push({ ma: ma.toString(), options })
        return {} as never
      },
    }) as unknown as Transport
  const factory = punchPortTransport(inner, 4002, [multiaddr(RELAY)])
  return { transport: factory({ peerId: { toString: () => MID } }), seen }
}

function dialOptions(priority?: number): DialTransportOptions & { priority?: number } {
  const upgrader = { upgradeOutbound: async (maConn: { direction: string }) => ({ direction: maConn.direction }) } as unknown as Upgrader
  return { upgrader, signal: new AbortController().signal, onProgress: () => {}, ...(priority === undefined ? {} : { priority }) }
}

describe('nat config', () => {
  it('is off by default', () => {
    expect(parseConfig({}).nat).toEqual({ punchPort: 0, announce: [] })
  })

  it('takes a punch port and announce addresses, and rejects bad ones', () => {
    expect(parseConfig({ nat: { punchPort: 4002, announce: ['/ip4/172.32.0.10/tcp/4002'] } }).nat).toEqual({ punchPort: 4002, announce: ['/ip4/172.32.0.10/tcp/4002'] })
    const fields = (input: unknown): string[] => {
      try {
        parseConfig(input)
      } catch (err) {
        return (err as ConfigError).issues.map((i) => i.field)
      }
      return []
    }
    expect(fields({ nat: { punchPort: -1 } })).toEqual(['config.nat.punchPort'])
    expect(fields({ nat: { punchPort: 70000 } })).toEqual(['config.nat.punchPort'])
    expect(fields({ nat: { announce: ['nope'] } })).toEqual(['config.nat.announce[0]'])
    expect(fields({ nat: { other: 1 } })).toEqual(['config.nat.other'])
  })

  it('refuses to listen on the punch port', () => {
    expect(() => parseConfig({ listen: ['/ip4/0.0.0.0/tcp/4002'], nat: { punchPort: 4002 } })).toThrow(ConfigError)
    expect(parseConfig({ listen: ['/ip4/0.0.0.0/tcp/4001'], nat: { punchPort: 4002 } }).listen).toEqual(['/ip4/0.0.0.0/tcp/4001'])
  })

  it('appends nat.announce to the announced addresses only when set', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    expect(libp2pOptions(parseConfig({}), { privateKey }).addresses).not.toHaveProperty('appendAnnounce')
    const options = libp2pOptions(parseConfig({ nat: { punchPort: 4002, announce: ['/ip4/172.32.0.10/tcp/4002'] } }), { privateKey })
    expect(options.addresses?.appendAnnounce).toEqual(['/ip4/172.32.0.10/tcp/4002'])
  })
})

describe('punch-port dial choices', () => {
  it('hole-punch dials (priority 100) leave from the punch port; the larger peer id initiates', () => {
    expect(choosePunchDial(multiaddr(`/ip4/1.2.3.4/tcp/4002/p2p/${LOW}`), DCUTR_DIAL_PRIORITY, 4002, new Set(), MID)).toEqual({ localPort: 4002, initiator: true })
    expect(choosePunchDial(multiaddr(`/ip4/1.2.3.4/tcp/4002/p2p/${HIGH}`), DCUTR_DIAL_PRIORITY, 4002, new Set(), MID)).toEqual({ localPort: 4002, initiator: false })
    expect(choosePunchDial(multiaddr('/ip4/1.2.3.4/tcp/4002'), DCUTR_DIAL_PRIORITY, 4002, new Set(), MID)).toEqual({ localPort: 4002 })
  })

  it('relay dials leave from the punch port without a role; other dials from an ephemeral port', () => {
    const pinned = new Set(['172.32.0.3:4001'])
    expect(choosePunchDial(multiaddr(RELAY), 50, 4002, pinned, MID)).toEqual({ localPort: 4002 })
    expect(choosePunchDial(multiaddr(`/ip4/172.32.0.3/tcp/4001/p2p/${HIGH}`), undefined, 4002, pinned, MID)).toEqual({ localPort: 4002 })
    expect(choosePunchDial(multiaddr(`/ip4/172.32.0.3/tcp/4005/p2p/${HIGH}`), 50, 4002, pinned, MID)).toEqual({})
    expect(choosePunchDial(multiaddr(`/ip4/1.2.3.4/tcp/4002/p2p/${HIGH}`), undefined, 4002, pinned, MID)).toEqual({})
  })
})

describe('punchPortTransport', () => {
  it('passes localPort and initiator to the inner dial, and makes the responder look inbound', async () => {
    const { transport, seen } = fakeTransport()
    const given = [dialOptions(), dialOptions(), dialOptions(DCUTR_DIAL_PRIORITY)]
    await transport.dial(multiaddr('/ip4/9.9.9.9/tcp/1234'), given[0]!)
    await transport.dial(multiaddr(RELAY), given[1]!)
    await transport.dial(multiaddr(`/ip4/1.2.3.4/tcp/4002/p2p/${LOW}`), given[2]!)
    const responderOptions = dialOptions(DCUTR_DIAL_PRIORITY)
    await transport.dial(multiaddr(`/ip4/5.6.7.8/tcp/4002/p2p/${HIGH}`), responderOptions)

    expect(seen.map((s) => [s.options.localPort, s.options.initiator])).toEqual([
      [undefined, undefined],
      [4002, undefined],
      [4002, true],
      [4002, false],
    ])
    // Ephemeral, relay and initiator dials keep the upgrader as given.
    for (const i of [0, 1, 2]) expect(seen[i]!.options.upgrader).toBe(given[i]!.upgrader)
    const maConn = { direction: 'outbound' }
    const ours = await seen[2]!.options.upgrader.upgradeOutbound(maConn as never, {} as never)
    expect((ours as unknown as { direction: string }).direction).toBe('outbound')
    // The responder's upgrader flips the direction before the real upgradeOutbound runs.
    expect(seen[3]!.options.upgrader).not.toBe(responderOptions.upgrader)
    const flipped = await seen[3]!.options.upgrader.upgradeOutbound(maConn as never, {} as never)
    expect((flipped as unknown as { direction: string }).direction).toBe('inbound')
    expect(maConn.direction).toBe('inbound')
  })
})
