// The seam to the link monitor (src/link, RTT/loss/throughput/heartbeat): the manager drives any
// object of this shape, so the two halves of the package build and test independently.
import type { Control, common } from '@cpc/protocol'
import type { PeerId } from '@libp2p/interface'

export interface LinkMonitorLike {
  start?(): void | Promise<void>
  stop?(): void | Promise<void>
  /** remoteHost: the IP of a direct connection, for the monitor's UDP loss probes. */
  addPeer(peerId: PeerId, options?: { remoteHost?: string }): void
  removePeer(peerId: PeerId): void
  handleControl(peer: PeerId, control: Control): void
  /** May carry more than the proto's fields; the manager copies only those. */
  stats(peer: PeerId): common.LinkStats | undefined
}
