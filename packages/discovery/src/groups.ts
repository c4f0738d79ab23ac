// Group membership: a DHT provider record under groupKey(name), re-announced on an unref'd timer
// well before it expires; leaving cancels the re-announcement (remote records then age out).
import { setMaxListeners } from 'node:events'
import type { CID } from 'multiformats/cid'
import { GROUP_REPROVIDE_FRACTION, MAX_JOINED_GROUPS } from './constants.js'
import { InvalidDiscoveryInputError } from './errors.js'
import { groupKey } from './group-key.js'
import { provide, timed } from './dht-queries.js'
import type { DiscoveryMetrics } from './metrics.js'
import type { DiscoveryDht, Logger } from './types.js'

interface Membership {
  key: CID
  timer: ReturnType<typeof setTimeout> | undefined
}

export class GroupMemberships {
  private readonly groups = new Map<string, Membership>()
  private controller: AbortController | undefined

  constructor(
    private readonly components: { dht: () => DiscoveryDht; metrics?: DiscoveryMetrics; logger: Logger },
    private readonly init: { recordTtlMs: number; queryTimeoutMs: number },
  ) {}

  start(): void {
    this.controller = new AbortController()
    setMaxListeners(Infinity, this.controller.signal)
  }

  /** Stops re-announcing; memberships are forgotten (a restarted node joins again). */
  stop(): void {
    this.controller?.abort()
    this.controller = undefined
    for (const m of this.groups.values()) clearTimeout(m.timer)
    this.groups.clear()
    this.components.metrics?.groupsJoined.set(0)
  }

  list(): string[] {
    return [...this.groups.keys()].sort()
  }

  /** Announces membership (resolves once the provider records are stored) and keeps it fresh. */
  async join(name: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
    const key = await groupKey(name)
    if (!this.groups.has(name) && this.groups.size >= MAX_JOINED_GROUPS) {
      throw new InvalidDiscoveryInputError(`Already a member of ${MAX_JOINED_GROUPS} groups`)
    }
    const existing = this.groups.get(name)
    if (existing !== undefined) clearTimeout(existing.timer)
    const membership: Membership = { key, timer: undefined }
    this.groups.set(name, membership)
    this.components.metrics?.groupsJoined.set(this.groups.size)
    try {
      await this.announce(membership, options.signal)
    } catch (err) {
      if (this.groups.get(name) === membership) this.groups.delete(name)
      this.components.metrics?.groupsJoined.set(this.groups.size)
      throw err
    }
    this.schedule(name, membership)
    return this.list()
  }

  async leave(name: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
    const membership = this.groups.get(name)
    if (membership !== undefined) {
      clearTimeout(membership.timer)
      this.groups.delete(name)
      this.components.metrics?.groupsJoined.set(this.groups.size)
      await this.components.dht().cancelReprovide(membership.key, options)
    }
    return this.list()
  }

  private async announce(membership: Membership, signal?: AbortSignal): Promise<void> {
    const stop = this.controller?.signal
    const signals = [AbortSignal.timeout(this.init.queryTimeoutMs)]
    if (stop !== undefined) signals.push(stop)
    if (signal !== undefined) signals.push(signal)
    await timed(this.components.metrics, 'provide', () => provide(this.components.dht(), membership.key, AbortSignal.any(signals)))
  }

  private schedule(name: string, membership: Membership): void {
    if (this.controller === undefined) return
    const delay = Math.max(1000, Math.floor(this.init.recordTtlMs * GROUP_REPROVIDE_FRACTION))
    membership.timer = setTimeout(() => {
      if (this.groups.get(name) !== membership) return
      this.announce(membership)
        .catch((err: unknown) => this.components.logger.warn({ group: name, err }, 're-announcing group membership failed'))
        .finally(() => {
          if (this.groups.get(name) === membership) this.schedule(name, membership)
        })
    }, delay)
    membership.timer.unref?.()
  }
}
