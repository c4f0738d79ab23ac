// A real cpc-bootstrap process: ready line, /metrics and health, a stable identity across restarts
// from the same data dir, a node that bootstraps from it, and exit 0 on SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { AppProcess, binary, eventually, sample, scrape } from './helpers/app-process.js'

const common = ['--grpc', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--address-scope', 'private', '--log-level', 'warn']

describe('cpc-bootstrap', () => {
  const procs: AppProcess[] = []
  let dir: string

  beforeAll(async () => {
    binary('bootstrap')
    dir = await mkdtemp(path.join(tmpdir(), 'cpc-bootstrap-'))
  })
  afterAll(async () => {
    await Promise.all(procs.map(async (p) => p.stop().catch(() => undefined)))
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('starts, serves /metrics and health, answers a node that bootstraps from it, stops with exit 0', async () => {
    const boot = new AppProcess(binary('bootstrap'), ['start', '--data-dir', path.join(dir, 'boot'), ...common])
    procs.push(boot)
    const ready = await boot.ready()
    expect(ready).toMatchObject({ event: 'ready', app: 'cpc-bootstrap', role: 'bootstrap' })
    const base = ready.metrics!.replace(/\/metrics$/, '')
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    expect((await fetch(`${base}/readyz`)).status).toBe(200)
    const text = await scrape(ready.metrics!)
    expect(text).toContain('cpc_connection_manager_peers')
    expect(text).toContain('libp2p_')

    const node = new AppProcess(binary('node'), ['start', '--bootstrap', ready.listen[0]!, ...common])
    procs.push(node)
    await node.ready()
    // The bootstrap sees the node connect (inbound, reported by the connection manager).
    await eventually(async () => ((sample(await scrape(ready.metrics!), 'cpc_connection_manager_peers', { state: 'connected' }) ?? 0) >= 1 ? true : undefined), 20_000, 'node connected to the bootstrap')
    expect(await node.stop()).toEqual({ code: 0, signal: null })
    expect(await boot.stop()).toEqual({ code: 0, signal: null })
  })

  it('keeps its identity across restarts from the same data dir', async () => {
    const args = ['--data-dir', path.join(dir, 'stable'), ...common]
    const first = new AppProcess(binary('bootstrap'), args)
    procs.push(first)
    const id = (await first.ready()).peerId
    expect(await first.stop()).toEqual({ code: 0, signal: null })
    const second = new AppProcess(binary('bootstrap'), args)
    procs.push(second)
    expect((await second.ready()).peerId).toBe(id)
    expect(await second.stop()).toEqual({ code: 0, signal: null })
  })
})
