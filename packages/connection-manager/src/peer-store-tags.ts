// Mirrors our protection into libp2p's peer store (see PEER_STORE_PROTECT_TAG) so libp2p's own
// connection pruner keeps protected peers too. Updates to one peer are applied in call order.
import type { PeerId, PeerStore } from '@libp2p/interface'
import { PEER_STORE_PROTECT_TAG, PEER_STORE_PROTECT_TAG_VALUE } from './constants.js'
import type { Logger } from './logger.js'

export class PeerStoreTagger {
  readonly #peerStore: Pick<PeerStore, 'merge'>
  readonly #log: Logger
  /** Last requested state per peer; an entry exists only while it is tagged or an update is pending. */
  readonly #tagged = new Map<string, boolean>()
  readonly #pending = new Map<string, Promise<void>>()

  constructor(peerStore: Pick<PeerStore, 'merge'>, logger: Logger) {
    this.#peerStore = peerStore
    this.#log = logger
  }

  /** Adds or removes the tag; a no-op when the peer is already in that state. */
  set(peer: PeerId, tagged: boolean): void {
    const id = peer.toString()
    if ((this.#tagged.get(id) ?? false) === tagged) return
    this.#tagged.set(id, tagged)
    const previous = this.#pending.get(id) ?? Promise.resolve()
    const next = previous.then(async () => {
      try {
        await this.#peerStore.merge(peer, { tags: { [PEER_STORE_PROTECT_TAG]: tagged ? { value: PEER_STORE_PROTECT_TAG_VALUE } : undefined } })
      } catch (err) {
        this.#log.warn({ peer: id, err, tagged }, 'peer store tag update failed')
      }
    })
    this.#pending.set(id, next)
    void next.finally(() => {
      if (this.#pending.get(id) !== next) return
      this.#pending.delete(id)
      if (this.#tagged.get(id) === false) this.#tagged.delete(id)
    })
  }

  /** Resolves once every update asked for so far is applied. */
  async settled(): Promise<void> {
    await Promise.all(this.#pending.values())
  }
}
