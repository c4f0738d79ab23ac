// NetworkHandlers on 127.0.0.1 for tests: private address scope (loopback addresses kept), DHT server
// mode, mDNS off (it would multicast on the host's real interfaces).
import type { Multiaddr } from '@multiformats/multiaddr'
import { NetworkHandler, type NetworkHandlerComponents } from '../../src/network-handler.js'
import type { NetworkConfigInput } from '../../src/config.js'

export class Handlers {
  readonly #all: NetworkHandler[] = []

  async create(config: NetworkConfigInput = {}, components: NetworkHandlerComponents = {}): Promise<NetworkHandler> {
    // A short dial bound: a send to a peer that is not up is queued after it (default 10 s). Shedding
    // on event-loop delay is relaxed: parallel jest workers on 2 cores stall the loop past the 100 ms
    // default while compiling, and these tests are about delivery (shedding is the router's to test).
    const handler = await NetworkHandler.create(
      {
        addressScope: 'private',
        dhtMode: 'server',
        mdns: false,
        connections: { dialTimeoutMs: 1500 },
        router: { shedding: { delayMs: { lowEnter: 5000, lowExit: 2500, mediumEnter: 10_000, mediumExit: 5000 } } },
        ...config,
      },
      components,
    )
    this.#all.push(handler)
    return handler
  }

  async started(config: NetworkConfigInput = {}, components: NetworkHandlerComponents = {}): Promise<NetworkHandler> {
    const handler = await this.create(config, components)
    await handler.start()
    return handler
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#all.splice(0).map(async (h) => h.stop()))
  }
}

/** The handler's TCP address with /p2p/<id>, for another node's bootstrap list. */
export function addressOf(handler: NetworkHandler): string {
  const addr = handler.multiaddrs.find((a: Multiaddr) => a.toString().includes('/tcp/') && !a.toString().includes('p2p-circuit'))
  if (addr === undefined) throw new Error(`no tcp address on ${handler.peerId.toString()}`)
  return addr.toString()
}
