// mDNS as a libp2p service that loads @libp2p/mdns (and multicast-dns) only when it starts: the
// factory must exist when createLibp2p runs, but a node with `mdns: false` (the default) then never
// loads the module at all, and one with mDNS on loads it at start. Peers are re-dispatched as the
// wrapped service's own 'peer' events, so libp2p and Discovery listen to it like to @libp2p/mdns.
import { TypedEventEmitter, peerDiscoverySymbol, serviceCapabilities } from '@libp2p/interface'
import type { PeerDiscovery, PeerDiscoveryEvents, PeerInfo, Startable } from '@libp2p/interface'
import type { MulticastDNSComponents, MulticastDNSInit } from '@libp2p/mdns'

type Inner = PeerDiscovery & Startable

export class LazyMdns extends TypedEventEmitter<PeerDiscoveryEvents> implements PeerDiscovery, Startable {
  readonly [peerDiscoverySymbol] = this
  readonly [Symbol.toStringTag] = '@cpc/discovery/mdns'
  readonly [serviceCapabilities] = ['@libp2p/peer-discovery']
  private inner: Inner | undefined
  private starting: Promise<void> | undefined

  constructor(
    private readonly components: MulticastDNSComponents,
    private readonly init: MulticastDNSInit,
  ) {
    super()
  }

  private readonly forward = (evt: CustomEvent<PeerInfo>): void => {
    this.safeDispatchEvent('peer', { detail: evt.detail })
  }

  isStarted(): boolean {
    return this.inner !== undefined
  }

  async start(): Promise<void> {
    this.starting ??= (async () => {
      const { mdns } = await import('@libp2p/mdns')
      const inner = mdns(this.init)(this.components) as Inner
      inner.addEventListener('peer', this.forward)
      await inner.start()
      this.inner = inner
    })()
    try {
      await this.starting
    } finally {
      this.starting = undefined
    }
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => {})
    const inner = this.inner
    this.inner = undefined
    if (inner === undefined) return
    inner.removeEventListener('peer', this.forward)
    await inner.stop()
  }
}

/** The service factory, like @libp2p/mdns's `mdns(init)`. */
export function lazyMdns(init: MulticastDNSInit = {}): (components: MulticastDNSComponents) => LazyMdns {
  return (components) => new LazyMdns(components, init)
}
