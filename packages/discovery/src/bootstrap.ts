// Bootstrap peers: configured multiaddrs with a /p2p/ component, tagged and protected, dialled
// through the connection manager (its backoff) or, without one, with a short retry loop here.
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { BOOTSTRAP_RETRY_ATTEMPTS, BOOTSTRAP_RETRY_BASE_MS, BOOTSTRAP_TAG } from './constants.js'
import { InvalidDiscoveryInputError } from './errors.js'
import { reportDial } from './dialer.js'
import type { DiscoveryConnectionManager, DiscoveryLibp2p, DiscoveryScorer, Logger } from './types.js'

export interface BootstrapPeer {
  peerId: PeerId
  multiaddrs: Multiaddr[]
}

/** Groups configured bootstrap multiaddrs by peer; each needs a /p2p/<peer id> component. */
export function parseBootstrapList(list: readonly string[]): BootstrapPeer[] {
  const byPeer = new Map<string, BootstrapPeer>()
  for (const text of list) {
    let ma: Multiaddr
    try {
      ma = multiaddr(text)
    } catch (err) {
      throw new InvalidDiscoveryInputError(`Invalid bootstrap multiaddr ${text}`, { cause: err })
    }
    const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value
    if (id === undefined) throw new InvalidDiscoveryInputError(`Bootstrap multiaddr ${text} has no /p2p/ peer id`)
    const peerId = peerIdFromString(id)
    const entry = byPeer.get(id) ?? { peerId, multiaddrs: [] }
    entry.multiaddrs.push(ma)
    byPeer.set(id, entry)
  }
  return [...byPeer.values()]
}

/** Protects and dials one bootstrap peer; resolves when connected, gives up quietly after retries. */
export async function connectBootstrap(
  components: { libp2p: DiscoveryLibp2p; connectionManager?: DiscoveryConnectionManager; scorer?: DiscoveryScorer; logger: Logger },
  peer: BootstrapPeer,
  options: { signal: AbortSignal; timeoutMs: number },
): Promise<boolean> {
  const { libp2p, connectionManager, logger } = components
  await libp2p.peerStore.merge(peer.peerId, { multiaddrs: peer.multiaddrs, tags: { [BOOTSTRAP_TAG]: { value: 50 } } }, { signal: options.signal })
  if (connectionManager !== undefined) {
    connectionManager.protect(peer.peerId, BOOTSTRAP_TAG)
    // The connection manager retries with its own backoff; one call is enough.
    try {
      await connectionManager.connect(peer.peerId, { signal: options.signal, multiaddrs: peer.multiaddrs })
      return true
    } catch (err) {
      logger.warn({ peer: peer.peerId.toString(), err }, 'bootstrap connect failed')
      return false
    }
  }
  for (let attempt = 0; attempt < BOOTSTRAP_RETRY_ATTEMPTS; attempt++) {
    options.signal.throwIfAborted()
    try {
      await libp2p.dial(peer.peerId, { signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) })
      reportDial(components.scorer, peer.peerId, true, logger)
      return true
    } catch (err) {
      if (options.signal.aborted) throw err
      reportDial(components.scorer, peer.peerId, false, logger)
      logger.debug({ peer: peer.peerId.toString(), attempt, err }, 'bootstrap dial failed')
      const delay = BOOTSTRAP_RETRY_BASE_MS * 2 ** attempt * Math.random()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay)
        function done(): void {
          clearTimeout(timer)
          options.signal.removeEventListener('abort', done)
          resolve()
        }
        options.signal.addEventListener('abort', done, { once: true })
      })
    }
  }
  return false
}
