// A real Prometheus (Debian's prometheus package) scrapes a small fleet on 127.0.0.1 started the way the
// image starts it (deploy/docker/cpc-entrypoint.sh): two bootstrap peers and a relay with identities
// from gen-identities installed through the entrypoint, two nodes bootstrapping by /dns4 names as in
// compose, and a relay-only node. Under traffic from the `cpc` CLI it checks that Prometheus returns
// cpc_ latency, loss and throughput series, loads the alert rules, accepts every dashboard query, and
// that every metric a dashboard or a rule names is exported by the programs' live /metrics.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { familiesInExposition } from '@cpc/observability'
import { Priority, common, nodeApi } from '@cpc/protocol'
import { createChannel, createClient, type Channel } from 'nice-grpc'
import { deployDir, freePort, missingBuild, startProc, stopProc, waitFor, type Proc } from './fleet.js'
import { isExported, metricNames } from './promql.js'

const prometheusBin = spawnSync('sh', ['-c', 'command -v prometheus']).status === 0
const reason =
  missingBuild() ??
  (prometheusBin ? undefined : 'prometheus not installed (Debian package prometheus; npm test installs it when root with apt-get)')
if (reason !== undefined) console.log(`live Prometheus tests skipped: ${reason}`)
const maybe = reason === undefined ? it : it.skip
/** Series Prometheus makes itself, not the programs. */
const PROMETHEUS_SERIES = new Set(['up', 'ALERTS'])

const procs: Proc[] = []
let prometheus: ChildProcess | undefined
let promUrl = ''
let dir = ''
let traffic: NodeJS.Timeout | undefined
const channels: Channel[] = []

type PromResult = { metric: Record<string, string>; value: [number, string] }[]
async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: PromResult } }> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) })
  return (await res.json()) as { status: string; error?: string; data?: { result: PromResult } }
}
/** Waits until `expr` returns a non-empty vector (or one matching `ok`). */
const nonEmpty = (expr: string, ok: (r: PromResult) => boolean = (r) => r.length > 0, ms = 60_000) =>
  waitFor(`${expr} in Prometheus`, ms, async () => {
    const r = await query(expr)
    return r.status === 'success' && ok(r.data!.result) ? r.data!.result : undefined
  })

/** Every PromQL expression of the dashboards (panels and variables) and the alert rules. */
function deployExpressions(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = []
  const dashDir = path.join(deployDir, 'grafana/dashboards')
  for (const f of fs.readdirSync(dashDir).filter((x) => x.endsWith('.json'))) {
    const d = JSON.parse(fs.readFileSync(path.join(dashDir, f), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[]
      templating: { list: { name: string; definition: string }[] }
    }
    for (const p of d.panels) for (const t of p.targets) out.push({ where: `${f}: ${p.title}`, expr: t.expr })
    for (const v of d.templating.list)
      out.push({ where: `${f}: $${v.name}`, expr: /^label_values\((.*),\s*\w+\)$/.exec(v.definition)![1]! })
  }
  const rulesText = fs.readFileSync(path.join(deployDir, 'prometheus/rules/cpc-alerts.yml'), 'utf8')
  for (const m of rulesText.matchAll(/- alert: (\w+)\n\s+expr: (\|\n((?:\s{10}.*\n)+)|(.*)\n)/g))
    out.push({ where: `alert ${m[1]}`, expr: (m[3] ?? m[4]!).trim() })
  return out
}
const forPrometheus = (expr: string): string =>
  expr.replaceAll('$__rate_interval', '15s').replaceAll('$node', '.*').replaceAll('$job', 'cpc-.*')

describe('a real Prometheus scraping a devnet started through the image entrypoint', () => {
  beforeAll(async () => {
    if (reason !== undefined) return
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpc-deploy-live-'))
    const gen = spawnSync(
      process.execPath,
      [
        path.join(deployDir, 'scripts/gen-identities.mjs'),
        '--out',
        path.join(dir, 'identities'),
        '--names',
        'bootstrap-1,bootstrap-2,relay',
      ],
      { encoding: 'utf8' },
    )
    const ids = JSON.parse(gen.stdout) as Record<string, string>
    // Install each identity the way the compose `identities` service and the k8s init container do.
    for (const n of ['bootstrap-1', 'bootstrap-2', 'relay']) {
      const r = spawnSync(
        'sh',
        [path.join(deployDir, 'docker/cpc-entrypoint.sh'), 'install-identity', path.join(dir, 'identities', `${n}.key`)],
        { env: { ...process.env, CPC_DATA_DIR: path.join(dir, n) } },
      )
      expect(r.status).toBe(0)
    }
    const b1 = await startProc('bootstrap-1', 'bootstrap', [], { CPC_DATA_DIR: path.join(dir, 'bootstrap-1') })
    procs.push(b1)
    const port = (p: Proc): string => /tcp\/(\d+)/.exec(p.ready.listen[0]!)![1]!
    const b2 = await startProc('bootstrap-2', 'bootstrap', [], {
      CPC_DATA_DIR: path.join(dir, 'bootstrap-2'),
      CPC_BOOTSTRAP: `/dns4/localhost/tcp/${port(b1)}/p2p/${ids['bootstrap-1']}`,
    })
    procs.push(b2)
    const boots = `/dns4/localhost/tcp/${port(b1)}/p2p/${ids['bootstrap-1']},/dns4/localhost/tcp/${port(b2)}/p2p/${ids['bootstrap-2']}`
    const relay = await startProc('relay', 'relay', [], { CPC_DATA_DIR: path.join(dir, 'relay'), CPC_BOOTSTRAP: boots })
    procs.push(relay)
    const relayAddr = `/ip4/127.0.0.1/tcp/${port(relay)}/p2p/${ids.relay}`
    const nodeEnv = { CPC_BOOTSTRAP: boots, CPC_RELAY: relayAddr, CPC_GROUPS: 'fleet' }
    procs.push(...(await Promise.all([startProc('node-1', 'node', [], nodeEnv), startProc('node-2', 'node', [], nodeEnv)])))
    procs.push(
      await startProc('node-3', 'node', ['--set', 'network.listen=[]'], {
        CPC_BOOTSTRAP: relayAddr,
        CPC_RELAY: relayAddr,
        CPC_GROUPS: 'fleet',
      }),
    )

    // Traffic through the nodes' gRPC APIs (NodeService, as the cpc CLI and the devnet use it): sends at
    // every priority and broadcasts, 5 per second, at most 4 calls in flight (a busy tick is skipped).
    const nodes = procs.filter((p) => p.name.startsWith('node-'))
    const clients = nodes.map((p) => {
      const ch = createChannel(p.ready.grpc!)
      channels.push(ch)
      return createClient(nodeApi.NodeServiceDefinition, ch)
    })
    const prios = [Priority.HIGH, Priority.MEDIUM, Priority.LOW]
    let i = 0
    let inFlight = 0
    const tick = (): void => {
      if (inFlight >= 4) return
      const n = i++
      const from = clients[n % clients.length]!
      const to = nodes[(n + 1) % nodes.length]!
      const payload = new TextEncoder().encode(`deploy test #${n}`)
      const signal = AbortSignal.timeout(10_000)
      const call =
        n % 5 === 4
          ? from.broadcast(
              {
                payload,
                priority: prios[n % 3]!,
                scope: { kind: common.BroadcastScope_Kind.KIND_ALL, group: '' },
                kind: 'deploy-test',
                contentId: `b${n}`,
              },
              { signal },
            )
          : from.sendMessage(
              { peerId: to.ready.peerId, payload, priority: prios[n % 3]!, kind: 'deploy-test', contentId: `m${n}`, ttlMs: 60_000 },
              { signal },
            )
      inFlight++
      call.then(
        () => inFlight--,
        () => inFlight--, // shed (RESOURCE_EXHAUSTED) or a peer not yet connected: the next tick goes on
      )
    }
    traffic = setInterval(tick, 200)

    const promPort = await freePort()
    promUrl = `http://127.0.0.1:${promPort}`
    fs.mkdirSync(path.join(dir, 'prom/rules'), { recursive: true })
    fs.copyFileSync(path.join(deployDir, 'prometheus/rules/cpc-alerts.yml'), path.join(dir, 'prom/rules/cpc-alerts.yml'))
    const job = (name: string, ps: Proc[]): string =>
      `  - job_name: ${name}\n    static_configs:\n      - targets: [${ps.map((p) => `"${new URL(p.ready.metrics!).host}"`).join(', ')}]\n`
    fs.writeFileSync(
      path.join(dir, 'prom/prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - rules/cpc-alerts.yml\nscrape_configs:\n` +
        job('cpc-bootstrap', [b1, b2]) +
        job('cpc-relay', [relay]) +
        job('cpc-node', nodes),
    )
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prom/prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'prom/data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    )
    await waitFor('Prometheus ready', 30_000, async () =>
      (await fetch(`${promUrl}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined,
    )
  }, 150_000)

  afterAll(async () => {
    if (traffic) clearInterval(traffic)
    for (const ch of channels) ch.close()
    await stopProc(prometheus)
    // Nodes first (their goodbyes reach a live relay and bootstraps), then the rest.
    await Promise.all(procs.filter((p) => p.name.startsWith('node-')).map((p) => stopProc(p.child)))
    await Promise.all(procs.map((p) => stopProc(p.child)))
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  }, 30_000)

  maybe('the identities from gen-identities are the processes peer ids (installed through the entrypoint)', () => {
    const ids = Object.fromEntries(
      fs
        .readFileSync(path.join(dir, 'identities/peer-ids.env'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split('=')),
    )
    expect(procs.find((p) => p.name === 'bootstrap-1')!.ready.peerId).toBe(ids.BOOTSTRAP_1_PEER_ID)
    expect(procs.find((p) => p.name === 'bootstrap-2')!.ready.peerId).toBe(ids.BOOTSTRAP_2_PEER_ID)
    expect(procs.find((p) => p.name === 'relay')!.ready.peerId).toBe(ids.RELAY_PEER_ID)
  })

  maybe(
    'every target is up; Prometheus returns cpc_ latency, loss and throughput series',
    async () => {
      await nonEmpty('up{job=~"cpc-.*"} == 1', (r) => r.length === 6)
      const rtt = await nonEmpty('sum by (node) (cpc_link_rtt_seconds_count) > 0', (r) => r.length >= 3)
      const delivery = await nonEmpty('sum by (node) (cpc_router_delivery_latency_seconds_count{priority="high"}) > 0')
      const loss = await nonEmpty('cpc_link_loss_ratio{stat="mean"}', (r) => r.length === 6)
      const bytes = await nonEmpty('sum by (node) (rate(cpc_router_bytes_sent_total[10s])) > 0')
      const relay = await nonEmpty('cpc_relay_reservations >= 1')
      console.log(
        `Prometheus: rtt counts on ${rtt.length} processes, HIGH deliveries on ${delivery.length}, loss gauges ${loss.length}, bytes/s > 0 on ${bytes.length}, relay reservations ${relay[0]!.value[1]}`,
      )
    },
    90_000,
  )

  maybe(
    'the alert rules load and evaluate without errors; CpcNodeDown is not firing',
    async () => {
      const rules = await waitFor('rules evaluated', 30_000, async () => {
        const r = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] }
        }
        const all = r.data.groups.flatMap((g) => g.rules)
        return all.length > 0 && all.every((x) => x.health === 'ok') ? all : undefined
      })
      expect(rules.length).toBe(9)
      const firing = await query('ALERTS{alertname="CpcNodeDown"}')
      expect(firing.data!.result).toEqual([])
    },
    60_000,
  )

  maybe(
    'every dashboard and alert query is accepted by Prometheus; the headline panels have data',
    async () => {
      const exprs = deployExpressions()
      expect(exprs.length).toBeGreaterThan(70)
      const bad: string[] = []
      for (const { where, expr } of exprs) {
        const r = await query(forPrometheus(expr))
        if (r.status !== 'success') bad.push(`${where}: ${r.error}`)
      }
      expect(bad).toEqual([])
      // Panels the issue names: latency by priority, loss, throughput, relay reservations.
      for (const e of [
        'histogram_quantile(0.99, sum by (priority, le) (rate(cpc_router_delivery_latency_seconds_bucket{node=~".*"}[15s])))',
        'cpc_link_loss_ratio{stat="mean", node=~".*"}',
        'sum by (priority) (rate(cpc_router_bytes_sent_total{node=~".*"}[15s]))',
        'cpc_relay_reservations / cpc_relay_reservations_max',
      ])
        await nonEmpty(e)
    },
    90_000,
  )

  maybe(
    'every metric named by a dashboard or an alert rule is exported by a live bootstrap, relay or node (no silently empty panel)',
    async () => {
      // Under traffic by now (the tests above waited for deliveries); lazily created series exist.
      const families = new Set<string>()
      for (const p of procs)
        for (const f of familiesInExposition(await (await fetch(p.ready.metrics!, { signal: AbortSignal.timeout(5000) })).text()))
          families.add(f)
      expect(families.has('cpc_relay_reservations')).toBe(true)
      const used = new Map<string, string>()
      for (const { where, expr } of deployExpressions()) for (const n of metricNames(expr)) used.set(n, where)
      expect(used.size).toBeGreaterThan(50)
      const missing = [...used].filter(([n]) => !PROMETHEUS_SERIES.has(n) && !isExported(n, families)).map(([n, w]) => `${n} (${w})`)
      expect(missing).toEqual([])
    },
    30_000,
  )

  maybe('the image HEALTHCHECK script: 0 against a live /healthz, 1 against a closed port', async () => {
    const node = procs.find((p) => p.name === 'node-1')!
    const ok = spawnSync(process.execPath, [path.join(deployDir, 'docker/healthcheck.mjs')], {
      env: { ...process.env, CPC_METRICS_BIND: new URL(node.ready.metrics!).host },
      encoding: 'utf8',
    })
    expect([ok.status, ok.stdout]).toEqual([0, expect.stringContaining('healthy')])
    const closed = await freePort()
    const bad = spawnSync(process.execPath, [path.join(deployDir, 'docker/healthcheck.mjs')], {
      env: { ...process.env, CPC_METRICS_BIND: `0.0.0.0:${closed}` },
      encoding: 'utf8',
    })
    expect(bad.status).toBe(1)
  })
})
