// What we know of other peers' group memberships: from their own signed announcements (their full
// list, replacing what we had) and from DHT provider lookups. Bounded in groups and members per
// group, and entries expire after the group record TTL, like the provider records they mirror.
import type { PeerId } from '@libp2p/interface'

export interface GroupDirectoryInit {
  maxGroups: number
  maxMembersPerGroup: number
  /** An entry not refreshed for this long is forgotten (ms). */
  ttlMs: number
}

interface Entry {
  peerId: PeerId
  atMs: number
}

export class GroupDirectory {
  /** group → peer id string → entry; both maps in least-recently-updated-first order. */
  private readonly groups = new Map<string, Map<string, Entry>>()

  constructor(
    private readonly init: GroupDirectoryInit,
    private readonly clock: () => number,
  ) {}

  /** A peer's own announcement: it is a member of exactly `groups` (and of no other group). */
  setMemberships(peerId: PeerId, groups: readonly string[]): void {
    const key = peerId.toString()
    const wanted = new Set(groups)
    for (const [name, members] of this.groups) {
      if (!wanted.has(name) && members.delete(key) && members.size === 0) this.groups.delete(name)
    }
    for (const name of wanted) this.add(name, peerId)
  }

  /** A member seen in the DHT (a provider record of the group). */
  add(group: string, peerId: PeerId): void {
    const key = peerId.toString()
    let members = this.groups.get(group)
    if (members === undefined) {
      if (this.groups.size >= this.init.maxGroups) this.groups.delete(this.groups.keys().next().value as string)
      members = new Map()
    }
    this.groups.delete(group)
    this.groups.set(group, members)
    members.delete(key)
    if (members.size >= this.init.maxMembersPerGroup) members.delete(members.keys().next().value as string)
    members.set(key, { peerId, atMs: this.clock() })
  }

  /** Unexpired members of any of `groups`, most recently seen first, each once. */
  members(groups: readonly string[]): PeerId[] {
    const now = this.clock()
    const found = new Map<string, Entry>()
    for (const name of new Set(groups)) {
      const members = this.groups.get(name)
      if (members === undefined) continue
      for (const [key, entry] of members) {
        if (now - entry.atMs > this.init.ttlMs) {
          members.delete(key)
          continue
        }
        const prev = found.get(key)
        if (prev === undefined || prev.atMs < entry.atMs) found.set(key, entry)
      }
      if (members.size === 0) this.groups.delete(name)
    }
    return [...found.values()].sort((a, b) => b.atMs - a.atMs).map((e) => e.peerId)
  }

  /** Groups tracked (for tests and bounds checks). */
  get size(): number {
    return this.groups.size
  }

  clear(): void {
    this.groups.clear()
  }
}
