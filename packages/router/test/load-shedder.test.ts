import { describe, it, expect } from '@jest/globals'
import { Registry } from 'prom-client'
import { Priority } from '@cpc/protocol'
import { LoadShedder, MonitorEventLoopDelaySource, nextLevel, type EventLoopDelaySource, type ShedLevel } from '../src/shedding/load-shedder.js'
import { PeerQueues } from '../src/outbound/peer-queues.js'
import { createRouterMetrics } from '../src/metrics.js'
import { InvalidConfigError } from '../src/errors.js'
import { FakeClock } from './helpers/fake-clock.js'
import { frame } from './helpers/frames.js'

const { HIGH, MEDIUM, LOW } = Priority

class ScriptedDelay implements EventLoopDelaySource {
  running = false
  next = 0
  start(): void {
    this.running = true
  }
  stop(): void {
    this.running = false
  }
  sampleMs(): number {
    return this.next
  }
}

describe('LoadShedder', () => {
  it('moves through none → low → medium and back with hysteresis', () => {
    const t = { lowEnter: 100, lowExit: 50, mediumEnter: 250, mediumExit: 125 }
    const path: ShedLevel[] = []
    let level: ShedLevel = 'none'
    for (const delay of [40, 99, 100, 60, 49, 300, 200, 130, 124, 51, 50, 49]) {
      level = nextLevel(level, delay, t)
      path.push(level)
    }
    expect(path).toEqual(['none', 'none', 'low', 'low', 'none', 'medium', 'medium', 'medium', 'low', 'low', 'low', 'none'])
  })

  it('sheds LOW, then MEDIUM, never HIGH, and names the signal', () => {
    const shedder = new LoadShedder({ delaySource: new ScriptedDelay() })
    expect(shedder.shouldShed(LOW)).toBe(false)
    shedder.update(150, 0)
    expect(shedder.level).toBe('low')
    expect([shedder.shouldShed(LOW), shedder.shouldShed(MEDIUM), shedder.shouldShed(HIGH)]).toEqual(['event_loop_delay', false, false])
    shedder.update(0, 0.97)
    expect(shedder.level).toBe('medium')
    expect([shedder.shouldShed(LOW), shedder.shouldShed(MEDIUM), shedder.shouldShed(HIGH)]).toEqual(['queue_pressure', 'queue_pressure', false])
    shedder.update(1000, 1)
    expect(shedder.shouldShed(HIGH)).toBe(false)
  })

  it('samples on its own timer between start() and stop(), with no timer left after stop()', async () => {
    const registry = new Registry()
    const clock = new FakeClock()
    const source = new ScriptedDelay()
    let fill = 0
    const shedder = new LoadShedder(
      { clock, delaySource: source, queueFill: () => fill, metrics: createRouterMetrics(registry) },
      { sampleIntervalMs: 100 },
    )
    const changes: string[] = []
    shedder.addEventListener('level:change', (e) => changes.push(`${e.detail.previous}->${e.detail.level}:${e.detail.reason}`))
    shedder.start()
    expect(source.running).toBe(true)
    source.next = 120
    clock.advance(100)
    expect(shedder.level).toBe('low')
    fill = 0.99
    clock.advance(100)
    expect(shedder.level).toBe('medium')
    source.next = 0
    fill = 0
    clock.advance(100)
    expect(shedder.level).toBe('none')
    expect(changes).toEqual(['none->low:event_loop_delay', 'low->medium:queue_pressure', 'medium->none:null'])
    const gauge = await registry.getSingleMetric('cpc_router_event_loop_delay_seconds')?.get()
    expect(gauge?.values[0].value).toBe(0)
    shedder.stop()
    expect(source.running).toBe(false)
    expect(clock.pendingTimers).toBe(0)
  })

  it('drives PeerQueues: a LOW flood is shed under event-loop lag, HIGH is not', () => {
    const shedder = new LoadShedder({ delaySource: new ScriptedDelay() })
    const queues = new PeerQueues({ shedPolicy: shedder })
    shedder.update(500, 0)
    let lowAccepted = 0
    for (let i = 0; i < 100; i++) if (queues.enqueue(frame(i), LOW, undefined).accepted) lowAccepted++
    for (let i = 0; i < 10; i++) expect(queues.enqueue(frame(1000 + i), HIGH, undefined).accepted).toBe(true)
    expect(lowAccepted).toBe(0)
    expect(queues.shedCount('event_loop_delay')).toBe(100)
    expect(queues.frames(HIGH)).toBe(10)
  })

  it('rejects thresholds whose exit is above their enter', () => {
    expect(() => new LoadShedder({ delaySource: new ScriptedDelay() }, { delayMs: { lowExit: 200 } })).toThrow(InvalidConfigError)
  })

  it('measures the real event loop with monitorEventLoopDelay', async () => {
    const source = new MonitorEventLoopDelaySource(5)
    source.start()
    const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve))
    // Wait for the monitor's first samples, then block the loop for 80 ms and wait for the sample
    // that records the block.
    while (source.samples < 2) await turn()
    const before = source.samples
    const until = performance.now() + 80
    while (performance.now() < until) {
      /* busy */
    }
    while (source.samples === before) await turn()
    const p99 = source.sampleMs()
    console.log(`monitorEventLoopDelay p99 after an 80 ms block: ${p99.toFixed(1)} ms`)
    source.stop()
    expect(p99).toBeGreaterThan(40)
    expect(source.samples).toBe(0)
  })
})
