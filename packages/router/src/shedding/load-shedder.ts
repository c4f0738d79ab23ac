// Decides when to shed load: LOW first, then MEDIUM, never HIGH. Two signals, each with its own
// hysteresis (enter above one threshold, leave only below a lower one, so the level does not flap):
//   - event-loop delay: p99 over each sample interval, from perf_hooks.monitorEventLoopDelay;
//   - queue fill: the fraction of the router's total queue budget in use (a function the owner of
//     the queues provides).
// The level is the higher of the two. shouldShed(priority) gives the reason of the signal that set it.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { TypedEventEmitter } from '@libp2p/interface'
import { Priority } from '@cpc/protocol'
import { systemClock, type Clock, type TimerHandle } from '../clock.js'
import {
  DEFAULT_EVENT_LOOP_DELAY_RESOLUTION_MS,
  DEFAULT_SHED_LOW_ENTER_DELAY_MS,
  DEFAULT_SHED_LOW_ENTER_FILL,
  DEFAULT_SHED_LOW_EXIT_DELAY_MS,
  DEFAULT_SHED_LOW_EXIT_FILL,
  DEFAULT_SHED_MEDIUM_ENTER_DELAY_MS,
  DEFAULT_SHED_MEDIUM_ENTER_FILL,
  DEFAULT_SHED_MEDIUM_EXIT_DELAY_MS,
  DEFAULT_SHED_MEDIUM_EXIT_FILL,
  DEFAULT_SHED_SAMPLE_INTERVAL_MS,
} from '../constants.js'
import { InvalidConfigError, positive } from '../errors.js'
import { noopLogger, type Logger } from '../logger.js'
import type { RouterMetrics } from '../metrics.js'
import type { ShedPolicy, ShedReason } from './shed-policy.js'

/** none: shed nothing; low: shed new LOW messages; medium: shed new LOW and MEDIUM messages. */
export type ShedLevel = 'none' | 'low' | 'medium'

const RANK: Record<ShedLevel, number> = { none: 0, low: 1, medium: 2 }

/** A source of event-loop delay samples; the default wraps monitorEventLoopDelay. */
export interface EventLoopDelaySource {
  start(): void
  stop(): void
  /** p99 delay (ms) since the previous call (or start), then reset. */
  sampleMs(): number
}

export interface LoadShedderComponents {
  clock?: Clock
  logger?: Logger
  metrics?: RouterMetrics
  /** Default: monitorEventLoopDelay with DEFAULT_EVENT_LOOP_DELAY_RESOLUTION_MS. */
  delaySource?: EventLoopDelaySource
  /** Fill of the total queue budget, 0..1. Default: always 0. */
  queueFill?: () => number
}

export interface Thresholds {
  lowEnter: number
  lowExit: number
  mediumEnter: number
  mediumExit: number
}

export interface LoadShedderInit {
  /** Default DEFAULT_SHED_SAMPLE_INTERVAL_MS. */
  sampleIntervalMs?: number
  /** Event-loop delay thresholds in ms; defaults DEFAULT_SHED_*_DELAY_MS. */
  delayMs?: Partial<Thresholds>
  /** Queue fill thresholds, 0..1; defaults DEFAULT_SHED_*_FILL. */
  fill?: Partial<Thresholds>
}

export interface ShedLevelEvent {
  readonly level: ShedLevel
  readonly previous: ShedLevel
  readonly reason: ShedReason | null
  readonly delayMs: number
  readonly fill: number
}

export interface LoadShedderEvents {
  'level:change': CustomEvent<ShedLevelEvent>
}

export class LoadShedder extends TypedEventEmitter<LoadShedderEvents> implements ShedPolicy {
  private readonly clock: Clock
  private readonly log: Logger
  private readonly metrics?: RouterMetrics
  private readonly delaySource: EventLoopDelaySource
  private readonly queueFill: () => number
  private readonly sampleIntervalMs: number
  private readonly delayThresholds: Thresholds
  private readonly fillThresholds: Thresholds

  private delayLevel: ShedLevel = 'none'
  private fillLevel: ShedLevel = 'none'
  private lastDelayMs = 0
  private lastFill = 0
  private timer?: TimerHandle
  private running = false

  constructor(components: LoadShedderComponents = {}, init: LoadShedderInit = {}) {
    super()
    this.clock = components.clock ?? systemClock
    this.log = components.logger ?? noopLogger
    this.metrics = components.metrics
    this.delaySource = components.delaySource ?? new MonitorEventLoopDelaySource()
    this.queueFill = components.queueFill ?? (() => 0)
    this.sampleIntervalMs = positive(init.sampleIntervalMs ?? DEFAULT_SHED_SAMPLE_INTERVAL_MS, 'sampleIntervalMs')
    this.delayThresholds = thresholds('delayMs', init.delayMs, {
      lowEnter: DEFAULT_SHED_LOW_ENTER_DELAY_MS,
      lowExit: DEFAULT_SHED_LOW_EXIT_DELAY_MS,
      mediumEnter: DEFAULT_SHED_MEDIUM_ENTER_DELAY_MS,
      mediumExit: DEFAULT_SHED_MEDIUM_EXIT_DELAY_MS,
    })
    this.fillThresholds = thresholds('fill', init.fill, {
      lowEnter: DEFAULT_SHED_LOW_ENTER_FILL,
      lowExit: DEFAULT_SHED_LOW_EXIT_FILL,
      mediumEnter: DEFAULT_SHED_MEDIUM_ENTER_FILL,
      mediumExit: DEFAULT_SHED_MEDIUM_EXIT_FILL,
    })
  }

  get level(): ShedLevel {
    return RANK[this.delayLevel] >= RANK[this.fillLevel] ? this.delayLevel : this.fillLevel
  }

  get isStarted(): boolean {
    return this.running
  }

  /** Starts the event-loop delay monitor and the sampling timer. */
  start(): void {
    if (this.running) return
    this.running = true
    this.delaySource.start()
    this.schedule()
  }

  /** Stops the monitor and the timer; the level is kept until the next start() samples again. */
  stop(): void {
    if (!this.running) return
    this.running = false
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.delaySource.stop()
  }

  shouldShed(priority: Priority): ShedReason | false {
    if (priority === Priority.HIGH) return false
    const needed = priority === Priority.MEDIUM ? RANK.medium : RANK.low
    // The delay signal wins ties: an event loop behind is the more urgent cause to report.
    if (RANK[this.delayLevel] >= needed) return 'event_loop_delay'
    if (RANK[this.fillLevel] >= needed) return 'queue_pressure'
    return false
  }

  /**
   * Take one sample of both signals and update the level. The timer calls it every
   * sampleIntervalMs; tests and owners with their own schedule may call it directly.
   */
  sample(): ShedLevel {
    return this.update(this.delaySource.sampleMs(), this.queueFill())
  }

  /** Update the level from given signal values (exposed for tests and for owners with their own probes). */
  update(delayMs: number, fill: number): ShedLevel {
    const previous = this.level
    this.lastDelayMs = delayMs
    this.lastFill = fill
    this.delayLevel = nextLevel(this.delayLevel, delayMs, this.delayThresholds)
    this.fillLevel = nextLevel(this.fillLevel, fill, this.fillThresholds)
    const level = this.level
    if (this.metrics !== undefined) {
      this.metrics.eventLoopDelay.set(delayMs / 1000)
      this.metrics.shedLevel.set(RANK[level])
    }
    if (level !== previous) {
      const reason = level === 'none' ? null : RANK[this.delayLevel] >= RANK[level] ? 'event_loop_delay' : 'queue_pressure'
      this.log.warn({ level, previous, reason, delayMs, fill }, 'load shedding level changed')
      this.safeDispatchEvent('level:change', { detail: { level, previous, reason, delayMs, fill } })
    }
    return level
  }

  /** Last sampled values, for status pages. */
  get lastSample(): { delayMs: number; fill: number } {
    return { delayMs: this.lastDelayMs, fill: this.lastFill }
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      if (!this.running) return
      this.sample()
      this.schedule()
    }, this.sampleIntervalMs)
  }
}

/** The level after a sample, with hysteresis: a level is entered at `enter` and left below `exit`. */
export function nextLevel(current: ShedLevel, value: number, t: Thresholds): ShedLevel {
  if (value >= t.mediumEnter) return 'medium'
  if (current === 'medium' && value >= t.mediumExit) return 'medium'
  if (value >= t.lowEnter) return 'low'
  if (current !== 'none' && value >= t.lowExit) return 'low'
  return 'none'
}

function thresholds(option: string, given: Partial<Thresholds> | undefined, defaults: Thresholds): Thresholds {
  const t = { ...defaults, ...given }
  const ok = t.lowExit <= t.lowEnter && t.mediumExit <= t.mediumEnter && t.lowEnter <= t.mediumEnter && t.lowExit <= t.mediumExit
  if (!ok || Object.values(t).some((v) => !Number.isFinite(v) || v < 0)) {
    throw new InvalidConfigError(option, JSON.stringify(t), 'exit <= enter for each level and low <= medium')
  }
  return t
}

/** The default delay source: perf_hooks.monitorEventLoopDelay, p99 of each interval. */
export class MonitorEventLoopDelaySource implements EventLoopDelaySource {
  private histogram?: IntervalHistogram
  private readonly resolutionMs: number

  constructor(resolutionMs = DEFAULT_EVENT_LOOP_DELAY_RESOLUTION_MS) {
    this.resolutionMs = resolutionMs
  }

  start(): void {
    if (this.histogram !== undefined) return
    this.histogram = monitorEventLoopDelay({ resolution: this.resolutionMs })
    this.histogram.enable()
  }

  stop(): void {
    this.histogram?.disable()
    this.histogram = undefined
  }

  /** Delay samples recorded since the last sampleMs(). */
  get samples(): number {
    return this.histogram?.count ?? 0
  }

  sampleMs(): number {
    const h = this.histogram
    if (h === undefined || h.count === 0) return 0
    const p99 = h.percentile(99) / 1e6
    h.reset()
    return Number.isFinite(p99) ? p99 : 0
  }
}
