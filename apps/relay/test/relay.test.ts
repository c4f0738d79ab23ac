// A real cpc-relay process: ready line, relay metrics from the first scrape, limits from flags and
// env, health, exit 0 on SIGTERM. (A reservation held by a node is tested in apps/node/test/processes.test.ts.)
import { afterAll, describe, expect, it } from '@jest/globals'
import { AppProcess, binary, sample, scrape } from './helpers/app-process.js'

describe('cpc-relay', () => {
  const procs: AppProcess[] = []
  afterAll(async () => {
    await Promise.all(procs.map(async (p) => p.stop().catch(() => undefined)))
  })

  it('starts with configured limits, exports relay metrics and health, stops with exit 0', async () => {
    const relay = new AppProcess(binary('relay'), ['--grpc', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--max-reservations', '7', '--log-level', 'warn'], {
      CPC_RELAY_MAX_BYTES: String(4 * 1024 * 1024),
    })
    procs.push(relay)
    const ready = await relay.ready()
    expect(ready).toMatchObject({ event: 'ready', app: 'cpc-relay', role: 'relay' })
    const text = await scrape(ready.metrics!)
    expect(sample(text, 'cpc_relay_reservations')).toBe(0)
    expect(sample(text, 'cpc_relay_reservations_max')).toBe(7)
    expect(sample(text, 'cpc_relay_relayed_bytes_total', { direction: 'received' })).toBe(0)
    const base = ready.metrics!.replace(/\/metrics$/, '')
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    expect((await fetch(`${base}/readyz`)).status).toBe(200)
    expect(await relay.stop()).toEqual({ code: 0, signal: null })
  })

  it('exits 2 naming the field on a bad limit', async () => {
    const relay = new AppProcess(binary('relay'), ['--max-reservations', '0'])
    procs.push(relay)
    expect((await relay.exited).code).toBe(2)
    expect(relay.stderr).toContain('config.network.relay.server.maxReservations')
  })
})
