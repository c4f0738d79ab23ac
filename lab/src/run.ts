// `npm run lab [-- --quick] [-- --runs=N]`: runs every implemented lab scenario, prints a table and
// writes docs/lab.md (results, the exact command, the machine).
import os from 'node:os'
import { machine, writeDocPart } from './docs.js'
import { labAvailable } from './topology.js'
import { sweepStale } from './names.js'
import { natTraversalRun } from './scenarios/nat-traversal.js'
import type { NatRunResult } from './scenarios/nat-traversal.js'
import { lossTruth } from './scenarios/loss-truth.js'
import { STREAM_WINDOW_BYTES, TBF_LATENCY, nodeLossTruth } from './scenarios/node-loss.js'
import { crashSafety, partitionHeal, relayRestart } from './scenarios/resilience.js'

const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const runs = Number(argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? (quick ? 3 : 20))
const write = (s: string): boolean => process.stdout.write(s + '\n')
const cell = (s: string): string => s.replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 200)

const why = labAvailable()
if (why != null) {
  write(`lab: cannot run here: ${why}`)
  process.exit(1)
}
const swept = sweepStale()
if (swept.length > 0) write(`lab: removed ${swept.length} namespaces left by dead runs`)

const started = new Date()
const loadAtStart = os.loadavg().map((l) => l.toFixed(1)).join('/')
const lines: string[] = []
const emit = (s = ''): void => {
  write(s)
  lines.push(s)
}

const only = argv.find((a) => a.startsWith('--only='))?.split('=')[1]?.split(',')
const want = (name: string): boolean => only == null || only.includes(name)
const summary: Array<[string, string, boolean]> = []

let punched = 0
if (want('nat')) {
  emit(`## 1. NAT traversal (${runs} runs)`)
  emit('')
  emit(
    process.env.LAB_NAT_IMPL === 'fixture'
      ? 'Raw libp2p nodes (`lab/fixtures/libp2p-node.mjs`, `LAB_NAT_IMPL=fixture`) behind two MASQUERADE routers.'
      : 'The real apps: `cpc-relay`, `cpc-bootstrap` (public segment) and two `cpc-node --relay <relay> --set network.nat.punchPort=4002 --set network.nat.announce=[<NAT WAN>:4002]` behind two MASQUERADE routers. ' +
          'AutoNAT v2 answers (relay, bootstrap) are `status/dialStatus` of a dial request for the node\'s listener mapping `<NAT WAN>/tcp/4001`, asked from the node\'s namespace; "relay public" = the relay\'s own AutoNAT v2 client got its listen address confirmed (`cpc status` reachability) and it is reachable by raw TCP. ' +
          '"relay circuit ms": a\'s start → the relay\'s metrics show the circuit (an open STOP stream); "first route": the route of a\'s first `cpc send` to b.',
  )
  emit('')
  emit('| run | reservations | reachability A/B (AutoNAT v2 + raw TCP) | AutoNAT v2 answers A / B | relay | relay circuit ms | relayed (first route) | direct (DCUtR) | direct addr | msg on direct | hole punch ms | failure |')
  emit('|---|---|---|---|---|---|---|---|---|---|---|---|')
  const results: NatRunResult[] = []
  for (let i = 1; i <= runs; i++) {
    const r = await natTraversalRun()
    results.push(r)
    emit(`| ${i} | ${r.reservations ? 'yes' : 'no'} | ${r.autonatNodes.join(' / ')} | ${r.autonatAnswers.join(' / ')} | ${r.autonatRelay} | ${r.relayCircuitMs ?? ''} | ${r.relayed ? 'yes' : 'no'}${r.firstRoute != null ? ` (${r.firstRoute.replace('ROUTE_', '')})` : ''} | ${r.direct ? 'yes' : 'no'} | ${r.directAddr ?? ''} | ${r.messageOnDirect ? 'yes' : 'no'} | ${r.holePunchMs ?? ''} | ${cell(r.failure ?? '')} |`)
  }
  const status = [...new Set(results.map((r) => (r.statusReachability ?? []).join(' / ')).filter((x) => x !== ''))]
  if (status.length > 0) emit(`\nThe nodes' own \`cpc status\` reachability (A / B), reported only: ${status.join('; ')}.`)
  punched = results.filter((r) => r.direct && r.messageOnDirect).length
  emit('')
  emit(`Hole-punch success: ${punched}/${runs} (${((punched / runs) * 100).toFixed(0)}%)`)
  emit('')
  summary.push(['1. NAT traversal (DCUtR)', `${punched}/${runs} hole punches, message on the direct path`, punched / runs >= 0.95])
}

if (want('loss')) {
  const samples = quick ? 4_000 : 20_000
  emit(`## 2a. Packet loss truth, link level (${samples} UDP datagrams per setting) and tbf`)
  emit('')
  const lt = await lossTruth({ samples })
  emit('| configured drop | measured | tolerance | ok |')
  emit('|---|---|---|---|')
  for (const r of lt.loss) emit(`| ${(r.configured * 100).toFixed(0)}% | ${(r.measured * 100).toFixed(2)}% | ±${(r.tolerance * 100).toFixed(2)} pp | ${r.ok ? 'yes' : 'NO'} |`)
  emit('')
  emit('| tbf rate | measured TCP goodput | ok (±10%) |')
  emit('|---|---|---|')
  for (const r of lt.rate) emit(`| ${r.rate} | ${(r.measured / 1e6).toFixed(2)} Mbit/s | ${r.ok ? 'yes' : 'NO'} |`)
  emit('')
  summary.push(['2a. loss/tbf, link level', lt.loss.map((r) => `${(r.measured * 100).toFixed(2)}%`).join(' ') + '; ' + lt.rate.map((r) => `${(r.measured / 1e6).toFixed(1)} Mbit/s`).join(' '), lt.loss.every((r) => r.ok) && lt.rate.every((r) => r.ok)])
}

if (want('node-loss')) {
  const probeIntervalMs = quick ? 5 : 10
  emit(`## 2b. Packet loss truth on the real node (cpc-node ×2, \`--set network.link.probeIntervalMs=${probeIntervalMs}\`)`)
  emit('')
  const nl = await nodeLossTruth({ probeIntervalMs, bulkMs: quick ? 10_000 : 15_000 })
  emit('| configured drop (x → y) | x reports | y reports | probes sent under the setting | waited | ok (±1.5 pp) |')
  emit('|---|---|---|---|---|---|')
  for (const r of nl.loss) emit(`| ${(r.configured * 100).toFixed(0)}% | ${(r.reportedX * 100).toFixed(2)}% | ${(r.reportedY * 100).toFixed(2)}% | ${r.probes} | ${(r.waitedMs / 1000).toFixed(0)} s | ${r.ok ? 'yes' : 'NO'} |`)
  emit('')
  emit(`Rate check: tbf \`latency ${TBF_LATENCY}\` on x's eth0, both nodes \`--set network.connections.maxStreamWindowBytes=${STREAM_WINDOW_BYTES}\`, \`lab/fixtures/grpc-bulk.mjs\` sending 256 KiB HIGH payloads, 8 calls in flight (why: lab/src/scenarios/node-loss.ts).`)
  emit('')
  emit('| tbf on x egress | y channel bytes in (rate) | x channel bytes out (rate) | tbf sent on the wire (tc -s) | x LinkMonitor bytesOutPerSec | SendMessage calls / errors (first) | ok (±10%) |')
  emit('|---|---|---|---|---|---|---|')
  for (const r of nl.rate) emit(`| ${r.rate} | ${(r.measured / 1e6).toFixed(2)} Mbit/s | ${(r.sent / 1e6).toFixed(2)} Mbit/s | ${(r.wire / 1e6).toFixed(2)} Mbit/s${r.saturated ? '' : ' (not saturated: the sender limited the flow)'} | ${r.linkMonitorOut != null ? `${(r.linkMonitorOut / 1e6).toFixed(2)} Mbit/s` : '0 (no heartbeat sample yet)'} | ${r.calls} / ${r.errors}${r.firstError != null ? ` (${cell(r.firstError).slice(0, 60)})` : ''} | ${r.ok ? 'yes' : 'NO'} |`)
  if (nl.failure != null) emit(`\nfailure: ${nl.failure}`)
  emit('')
  const ok = nl.failure == null && nl.loss.length > 0 && nl.loss.every((r) => r.ok) && nl.rate.every((r) => r.ok)
  summary.push(['2b. loss/tbf, cpc-node metrics', nl.loss.map((r) => `${(r.reportedX * 100).toFixed(2)}%`).join(' ') + '; ' + nl.rate.map((r) => `${(r.measured / 1e6).toFixed(1)} Mbit/s`).join(' ') + (nl.failure != null ? ` (${nl.failure.slice(0, 80)})` : ''), ok])
}

if (want('partition')) {
  emit('## 3. Partition and heal (cpc-node ×2, `cpc send` at every priority while cut, `cpc watch --json`)')
  emit('')
  emit('| cut by | y → x states (reason) | retry gaps ms | routes of the sends | delivered (order) | exactly once | HIGH first | heal → all delivered | ok | failure |')
  emit('|---|---|---|---|---|---|---|---|---|---|')
  for (const mode of ['link-down', 'drop'] as const) {
    const r = await partitionHeal(mode)
    emit(`| ${mode === 'link-down' ? '`ip link set eth0 down`' : 'iptables drop 100% both ways'} | ${r.states.join(' → ')} | ${(r.retryGapsMs ?? []).join(', ')} | ${[...new Set(r.routes)].join(', ')} | ${r.delivered.join(', ')} | ${r.exactlyOnce ? 'yes' : 'no'} | ${r.highFirst ? 'yes' : 'no'} | ${r.healToAllMs != null ? `${(r.healToAllMs / 1000).toFixed(1)} s` : ''} | ${r.ok ? 'yes' : 'NO'} | ${cell(r.failure ?? '')} |`)
    summary.push([`3. partition/heal (${mode})`, r.ok ? `6/6 once, HIGH first, healed in ${((r.healToAllMs ?? 0) / 1000).toFixed(1)} s` : cell(r.failure ?? '').slice(0, 120), r.ok])
  }
  emit('')
}

if (want('relay')) {
  emit('## 4. Relay restart (cpc-relay SIGKILLed, restarted from its data dir; two cpc-nodes with `--relay`)')
  emit('')
  emit('| nodes | reservations before | after | relay ready → relay holds both again | → both nodes report one | ok (≤ 10 s) | failure |')
  emit('|---|---|---|---|---|---|---|')
  for (const nodes of ['app', 'fix'] as const) {
    const r = await relayRestart({ nodes })
    const label = nodes === 'app' ? 'cpc-node (as shipped)' : 'NetworkHandler + re-reserve fix (fixtures/relay-rereserve-node.mjs)'
    emit(`| ${label} | ${r.before} | ${r.after} | ${r.reservationsBackMs != null ? `${r.reservationsBackMs} ms` : 'never (in the wait)'} | ${r.statusBackMs != null ? `${r.statusBackMs} ms` : 'never (in the wait)'} | ${r.ok ? 'yes' : 'NO'} | ${cell(r.failure ?? '')} |`)
    summary.push([`4. relay restart (${nodes === 'app' ? 'cpc-node' : 'with the proposed fix'})`, r.ok ? `reservations back in ${r.reservationsBackMs} ms` : `${cell(r.failure ?? '').slice(0, 100)} (js-libp2p #3601)`, r.ok])
  }
  emit('')
}

if (want('crash')) {
  emit('## 5. Crash safety (cpc-node kill -9 with 3 queued messages for an offline peer)')
  emit('')
  const r = await crashSafety()
  emit('| queued | outbox before kill | outbox after restart | delivered | exactly once | outbox after delivery | restart → all delivered | ok | failure |')
  emit('|---|---|---|---|---|---|---|---|---|')
  emit(`| ${r.queued} | ${r.outboxBeforeKill ?? ''} | ${r.outboxAfterRestart ?? ''} | ${r.delivered.join(', ')} | ${r.exactlyOnce ? 'yes' : 'no'} | ${r.outboxAfterDelivery ?? ''} | ${r.restartToAllMs != null ? `${(r.restartToAllMs / 1000).toFixed(1)} s` : ''} | ${r.ok ? 'yes' : 'NO'} | ${cell(r.failure ?? '')} |`)
  emit('')
  summary.push(['5. crash safety', r.ok ? `${r.delivered.length}/${r.queued} delivered once after kill -9` : cell(r.failure ?? '').slice(0, 120), r.ok])
}

emit('## Summary')
emit('')
emit('| scenario | result | ok |')
emit('|---|---|---|')
for (const [name, result, ok] of summary) emit(`| ${name} | ${result} | ${ok ? 'yes' : 'NO'} |`)
emit('')

const cmd = `npm run lab${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`
writeDocPart(
  'lab',
  [
    '# Network lab results',
    '',
    `Produced by \`${cmd}\` on ${started.toISOString()} (${((Date.now() - started.getTime()) / 60_000).toFixed(0)} min), ${machine()}; load average ${loadAtStart} at the start.`,
    'The machine (2 vCPUs) is shared with other engineers running tests and benchmarks while the lab runs: timings (hole punch ms, heal delays) carry their load.',
    'How the lab works and what these figures mean: lab/README.md.',
    '',
    ...lines,
  ].join('\n'),
)
write(`\nwrote docs/lab.md`)
const allOk = summary.every(([, , ok]) => ok)
void punched
process.exit(allOk ? 0 : 1)
