// The persistent outbox: messages waiting for a retry survive a restart of the node. A LevelDB store
// (classic-level) in the node's data dir holds each message's encoded frames, keyed so that one
// peer's entries come back by priority (HIGH first), then in the order they were put (FIFO). A second
// key space indexes entries by expiry so expire() reads only what is due.
//
// Bounds: entries and bytes per peer and in total; a put that would pass one is refused with
// OutboxFullError (never a silent drop: the caller reports it to whoever sent the message). An
// in-memory index (id → peer, priority, size, expiry; bounded by maxEntries) keeps the bound checks
// O(1); open() rebuilds it from the store.
import { ClassicLevel } from 'classic-level'
import { MessageType, type Priority } from '@cpc/protocol'
import type { AbortOptions } from '@libp2p/interface'
import { systemClock, type Clock } from '../clock.js'
import {
  DEFAULT_OUTBOX_EXPIRE_BATCH,
  DEFAULT_OUTBOX_MAX_BYTES,
  DEFAULT_OUTBOX_MAX_BYTES_PER_PEER,
  DEFAULT_OUTBOX_MAX_ENTRIES,
  DEFAULT_OUTBOX_MAX_ENTRIES_PER_PEER,
} from '../constants.js'
import { AbortedError, EmptyMessageError, OutboxClosedError, OutboxFullError, positive } from '../errors.js'
import { noopLogger, type Logger } from '../logger.js'
import type { RouterMetrics } from '../metrics.js'
import { assertPriority, priorityLabel, type KnownPriority } from '../priority.js'
import {
  decodeEntryKey,
  decodeValue,
  encodeValue,
  entryKey,
  expiredRange,
  expiryKey,
  peerBytes,
  peerRange,
  ENTRY_PREFIX,
} from './entry-codec.js'

export interface OutboxComponents {
  /** Wall clock (ms since the epoch): expiries are absolute, like the wire's expires_at_ms. */
  clock?: Pick<Clock, 'now'>
  logger?: Logger
  metrics?: RouterMetrics
}

export interface OutboxInit {
  /** Directory of the LevelDB store, e.g. `<dataDir>/outbox`. Created if missing. */
  location: string
  /** Default DEFAULT_OUTBOX_MAX_ENTRIES_PER_PEER. */
  maxEntriesPerPeer?: number
  /** Default DEFAULT_OUTBOX_MAX_BYTES_PER_PEER. */
  maxBytesPerPeer?: number
  /** Default DEFAULT_OUTBOX_MAX_ENTRIES. */
  maxEntries?: number
  /** Default DEFAULT_OUTBOX_MAX_BYTES. */
  maxBytes?: number
}

/** What the caller puts: one message as its encoded CpcMessage frames. */
export interface OutboxEntryInit {
  frames: readonly Uint8Array[]
  priority: Priority
  /** ms since the epoch after which the entry is expired; 0 means never. */
  expiresAtMs: number
  /** The message's nonce (the first chunk's for a chunked message), to name it in events. */
  nonce: bigint
  /** Default EVENT. */
  type?: MessageType
}

export interface OutboxEntry {
  /** Opaque, unique within this store (for remove()). */
  readonly id: string
  readonly peer: string
  readonly frames: Uint8Array[]
  readonly priority: KnownPriority
  readonly type: MessageType
  readonly expiresAtMs: number
  readonly nonce: bigint
  readonly createdAtMs: number
  readonly bytes: number
}

interface IndexRecord {
  peer: string
  key: Uint8Array
  priority: KnownPriority
  bytes: number
  expiresAtMs: number
  seq: number
}

interface PeerTotals {
  entries: number
  bytes: number
}

type Db = ClassicLevel<Uint8Array, Uint8Array>

export class Outbox {
  private readonly clock: Pick<Clock, 'now'>
  private readonly log: Logger
  private readonly metrics?: RouterMetrics
  readonly location: string
  readonly maxEntriesPerPeer: number
  readonly maxBytesPerPeer: number
  readonly maxEntries: number
  readonly maxBytes: number

  private db?: Db
  private readonly index = new Map<string, IndexRecord>()
  private readonly perPeer = new Map<string, PeerTotals>()
  private totalBytes = 0
  private seq = 0

  constructor(components: OutboxComponents, init: OutboxInit) {
    this.clock = components.clock ?? systemClock
    this.log = components.logger ?? noopLogger
    this.metrics = components.metrics
    this.location = init.location
    this.maxEntriesPerPeer = positive(init.maxEntriesPerPeer ?? DEFAULT_OUTBOX_MAX_ENTRIES_PER_PEER, 'maxEntriesPerPeer')
    this.maxBytesPerPeer = positive(init.maxBytesPerPeer ?? DEFAULT_OUTBOX_MAX_BYTES_PER_PEER, 'maxBytesPerPeer')
    this.maxEntries = positive(init.maxEntries ?? DEFAULT_OUTBOX_MAX_ENTRIES, 'maxEntries')
    this.maxBytes = positive(init.maxBytes ?? DEFAULT_OUTBOX_MAX_BYTES, 'maxBytes')
  }

  get isOpen(): boolean {
    return this.db !== undefined
  }

  /** Entries held, for one peer or in total. */
  size(peer?: string): number {
    return peer === undefined ? this.index.size : (this.perPeer.get(peer)?.entries ?? 0)
  }

  /** Frame bytes held, for one peer or in total. */
  bytes(peer?: string): number {
    return peer === undefined ? this.totalBytes : (this.perPeer.get(peer)?.bytes ?? 0)
  }

  /** Peers with at least one entry (to retry when they come back). */
  peers(): string[] {
    return [...this.perPeer.keys()]
  }

  /** Opens the store and rebuilds the in-memory index from it. */
  async open(): Promise<void> {
    if (this.db !== undefined) return
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(this.location, { keyEncoding: 'view', valueEncoding: 'view' })
    await db.open({ createIfMissing: true })
    this.index.clear()
    this.perPeer.clear()
    this.totalBytes = 0
    let maxSeq = 0
    let corrupt = 0
    const range = { gte: Uint8Array.of(ENTRY_PREFIX), lt: Uint8Array.of(ENTRY_PREFIX + 1) }
    for await (const [key, value] of db.iterator(range)) {
      try {
        const { peer, priority, seq } = decodeEntryKey(key)
        const stored = decodeValue(value)
        const record: IndexRecord = { peer, key: Uint8Array.from(key), priority, bytes: frameBytes(stored.frames), expiresAtMs: stored.expiresAtMs, seq }
        this.addToIndex(String(seq), record)
        if (seq > maxSeq) maxSeq = seq
      } catch (err) {
        // A corrupt entry cannot be delivered; keep the store usable and say so.
        corrupt++
        this.log.error({ err }, 'outbox: skipping corrupt entry')
      }
    }
    this.seq = maxSeq
    this.db = db
    this.updateGauges()
    this.log.info({ entries: this.index.size, bytes: this.totalBytes, corrupt }, 'outbox opened')
  }

  async close(): Promise<void> {
    const db = this.db
    if (db === undefined) return
    this.db = undefined
    await db.close()
  }

  /** Startable aliases. */
  async start(): Promise<void> {
    await this.open()
  }

  async stop(): Promise<void> {
    await this.close()
  }

  /**
   * Store one message for `peer`. Throws OutboxFullError when a per-peer or total bound would be
   * passed, OutboxClosedError when not open. Resolves once the store has it.
   */
  async put(peer: string, init: OutboxEntryInit, options: AbortOptions = {}): Promise<OutboxEntry> {
    const db = this.requireOpen()
    throwIfAborted(options)
    assertPriority(init.priority)
    if (init.frames.length === 0) throw new EmptyMessageError()
    const pk = peerBytes(peer)
    const frames = init.frames.map((f) => Uint8Array.from(f))
    const bytes = frameBytes(frames)
    const totals = this.perPeer.get(peer) ?? { entries: 0, bytes: 0 }
    if (totals.entries + 1 > this.maxEntriesPerPeer) this.full('peer', 'entries', this.maxEntriesPerPeer)
    if (totals.bytes + bytes > this.maxBytesPerPeer) this.full('peer', 'bytes', this.maxBytesPerPeer)
    if (this.index.size + 1 > this.maxEntries) this.full('total', 'entries', this.maxEntries)
    if (this.totalBytes + bytes > this.maxBytes) this.full('total', 'bytes', this.maxBytes)

    const seq = ++this.seq
    const id = String(seq)
    const createdAtMs = this.clock.now()
    const expiresAtMs = Math.max(0, Math.floor(init.expiresAtMs))
    const type = init.type ?? MessageType.EVENT
    const key = entryKey(pk, init.priority, seq)
    const record: IndexRecord = { peer, key, priority: init.priority, bytes, expiresAtMs, seq }
    // Reserve before the write so concurrent puts see the bound.
    this.addToIndex(id, record)
    this.updateGauges()
    const value = encodeValue({ frames, priority: init.priority, type, expiresAtMs, nonce: init.nonce, createdAtMs })
    try {
      const ops: Array<{ type: 'put'; key: Uint8Array; value: Uint8Array }> = [{ type: 'put', key, value }]
      if (expiresAtMs > 0) ops.push({ type: 'put', key: expiryKey(expiresAtMs, seq), value: key })
      await db.batch(ops)
    } catch (err) {
      this.removeFromIndex(id)
      this.updateGauges()
      throw err
    }
    return { id, peer, frames, priority: init.priority, type, expiresAtMs, nonce: init.nonce, createdAtMs, bytes }
  }

  /**
   * The entries held for `peer`, HIGH first, FIFO within a priority, skipping expired ones (expire()
   * reports those). Nothing is removed: remove(id) each entry once delivered (at-least-once).
   */
  async listFor(peer: string, options: { limit?: number } & AbortOptions = {}): Promise<OutboxEntry[]> {
    const db = this.requireOpen()
    const limit = options.limit ?? Infinity
    const out: OutboxEntry[] = []
    if (!this.perPeer.has(peer) || limit <= 0) return out
    const now = this.clock.now()
    for await (const [key, value] of db.iterator(peerRange(peerBytes(peer)))) {
      throwIfAborted(options)
      const { seq } = decodeEntryKey(key)
      const id = String(seq)
      if (!this.index.has(id)) continue // removed while we iterated
      const entry = toEntry(id, peer, decodeValue(value))
      if (entry.expiresAtMs !== 0 && entry.expiresAtMs <= now) continue
      out.push(entry)
      if (out.length >= limit) break
    }
    return out
  }

  /**
   * listFor() and remove the entries returned in one atomic write: a hand-over to a caller that keeps
   * them in memory from now on (e.g. back into the peer's queues). If the node dies before the caller
   * delivers them they are gone, so prefer listFor() + remove() where that matters.
   */
  async takeFor(peer: string, options: { limit?: number } & AbortOptions = {}): Promise<OutboxEntry[]> {
    const entries = await this.listFor(peer, options)
    // Claim synchronously so a concurrent takeFor() cannot return the same entries.
    const claimed = entries.filter((e) => this.index.has(e.id))
    const records = claimed.map((e) => this.removeFromIndex(e.id) as IndexRecord)
    this.updateGauges()
    await this.deleteRecords(records)
    return claimed
  }

  /** Remove one entry (delivered, or given up on). Resolves false if it was not there. */
  async remove(id: string): Promise<boolean> {
    this.requireOpen()
    const record = this.removeFromIndex(id)
    if (record === undefined) return false
    this.updateGauges()
    await this.deleteRecords([record])
    return true
  }

  /**
   * Remove and return every entry whose expiresAtMs <= now (at most `limit` per call, default
   * DEFAULT_OUTBOX_EXPIRE_BATCH): the caller emits `message:expired` for each.
   */
  async expire(now = this.clock.now(), options: { limit?: number } = {}): Promise<OutboxEntry[]> {
    const db = this.requireOpen()
    const limit = options.limit ?? DEFAULT_OUTBOX_EXPIRE_BATCH
    const due: Array<{ id: string; key: Uint8Array; expiryKey: Uint8Array }> = []
    for await (const [expKey, entryKeyBytes] of db.iterator({ ...expiredRange(now), limit })) {
      const { seq } = decodeEntryKey(entryKeyBytes)
      due.push({ id: String(seq), key: Uint8Array.from(entryKeyBytes), expiryKey: Uint8Array.from(expKey) })
    }
    if (due.length === 0) return []
    const values = await db.getMany(due.map((d) => d.key))
    const expired: OutboxEntry[] = []
    const records: IndexRecord[] = []
    const orphans: Array<{ type: 'del'; key: Uint8Array }> = []
    for (let i = 0; i < due.length; i++) {
      const value = values[i]
      const record = value === undefined ? undefined : this.removeFromIndex(due[i].id)
      if (record === undefined || value === undefined) {
        // Removed meanwhile (its own delete covers it) or an index key left by a corrupt entry.
        orphans.push({ type: 'del', key: due[i].expiryKey })
        continue
      }
      records.push(record)
      const entry = toEntry(due[i].id, record.peer, decodeValue(value))
      expired.push(entry)
      this.metrics?.outboxExpired.inc({ priority: priorityLabel(entry.priority) })
    }
    this.updateGauges()
    await this.deleteRecords(records)
    if (orphans.length > 0) await db.batch(orphans)
    return expired
  }

  private async deleteRecords(records: IndexRecord[]): Promise<void> {
    if (records.length === 0) return
    const db = this.requireOpen()
    const ops: Array<{ type: 'del'; key: Uint8Array }> = []
    for (const r of records) {
      ops.push({ type: 'del', key: r.key })
      if (r.expiresAtMs > 0) ops.push({ type: 'del', key: expiryKey(r.expiresAtMs, r.seq) })
    }
    await db.batch(ops)
  }

  private addToIndex(id: string, record: IndexRecord): void {
    this.index.set(id, record)
    const totals = this.perPeer.get(record.peer)
    if (totals === undefined) this.perPeer.set(record.peer, { entries: 1, bytes: record.bytes })
    else {
      totals.entries++
      totals.bytes += record.bytes
    }
    this.totalBytes += record.bytes
  }

  private removeFromIndex(id: string): IndexRecord | undefined {
    const record = this.index.get(id)
    if (record === undefined) return undefined
    this.index.delete(id)
    const totals = this.perPeer.get(record.peer) as PeerTotals
    totals.entries--
    totals.bytes -= record.bytes
    if (totals.entries === 0) this.perPeer.delete(record.peer)
    this.totalBytes -= record.bytes
    return record
  }

  private full(scope: 'peer' | 'total', limit: 'entries' | 'bytes', max: number): never {
    this.metrics?.outboxRejected.inc({ scope })
    throw new OutboxFullError(scope, limit, max)
  }

  private updateGauges(): void {
    this.metrics?.outboxEntries.set(this.index.size)
    this.metrics?.outboxBytes.set(this.totalBytes)
  }

  private requireOpen(): Db {
    if (this.db === undefined) throw new OutboxClosedError()
    return this.db
  }
}

function toEntry(id: string, peer: string, v: ReturnType<typeof decodeValue>): OutboxEntry {
  return {
    id,
    peer,
    frames: v.frames,
    priority: v.priority,
    type: v.type,
    expiresAtMs: v.expiresAtMs,
    nonce: v.nonce,
    createdAtMs: v.createdAtMs,
    bytes: frameBytes(v.frames),
  }
}

function frameBytes(frames: readonly Uint8Array[]): number {
  let n = 0
  for (const f of frames) n += f.byteLength
  return n
}

function throwIfAborted(options: AbortOptions): void {
  if (options.signal?.aborted === true) throw new AbortedError()
}
