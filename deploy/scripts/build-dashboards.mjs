#!/usr/bin/env node
// Writes the Grafana dashboards (deploy/grafana/dashboards/*.json) from the specs below: one dashboard
// per operator question, every panel a PromQL query on the programs' real metrics. The JSON files are
// committed (Grafana provisions them as files); deploy/test checks they match this script's output
// (`node deploy/scripts/build-dashboards.mjs --check`) and that every metric they name is exported.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const outDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../grafana/dashboards')
const DS = { type: 'prometheus', uid: 'cpc-prometheus' }
const N = 'node=~"$node"'
const R = '$__rate_interval'

/** histogram_quantile over a `by` set. */
const q = (p, metric, by, sel = N) =>
  `histogram_quantile(${p}, sum by (${[...by, 'le'].join(', ')}) (rate(${metric}_bucket{${sel}}[${R}])))`

// Each dashboard: uid, title, question it answers, rows of panels.
// Panel: [title, unit, targets: [expr, legend][], opts?] ; opts.type 'stat' for single values.
const DASHBOARDS = [
  {
    uid: 'cpc-fleet-overview',
    title: 'cpc-net / Fleet overview',
    question: 'Is the fleet up, connected and moving messages? Start here.',
    panels: [
      ['Processes up', 'short', [['sum(up{job=~"cpc-.*"})', 'up']], { type: 'stat', w: 4 }],
      ['Processes down', 'short', [['count(up{job=~"cpc-.*"} == 0) or vector(0)', 'down']], { type: 'stat', w: 4, thresholds: [1] }],
      ['Firing alerts', 'short', [['count(ALERTS{alertstate="firing"}) or vector(0)', 'firing']], { type: 'stat', w: 4, thresholds: [1] }],
      [
        'Worst mean loss',
        'percentunit',
        [[`max(cpc_link_loss_ratio{stat="mean", ${N}})`, 'loss']],
        { type: 'stat', w: 4, thresholds: [0.05] },
      ],
      [
        'HIGH p99 delivery',
        's',
        [[q(0.99, 'cpc_router_delivery_latency_seconds', [], `priority="high", ${N}`), 'p99']],
        { type: 'stat', w: 4, thresholds: [0.5] },
      ],
      ['Max shed level', 'short', [[`max(cpc_router_shed_level{${N}})`, 'shed']], { type: 'stat', w: 4, thresholds: [1] }],
      ['Up by process', 'short', [['up{job=~"cpc-.*"}', '{{job}} {{instance}}']]],
      ['Connected peers', 'short', [[`sum by (node) (cpc_connection_manager_peers{state="connected", ${N}})`, '{{node}}']]],
      [
        'Messages sent + received /s',
        'ops',
        [
          [
            `sum by (node) (rate(cpc_router_messages_sent_total{${N}}[${R}])) + sum by (node) (rate(cpc_router_messages_received_total{${N}}[${R}]))`,
            '{{node}}',
          ],
        ],
      ],
      ['Router bytes out /s', 'Bps', [[`sum by (node) (rate(cpc_router_bytes_sent_total{${N}}[${R}]))`, '{{node}}']]],
      ['Resident memory', 'bytes', [[`cpc_process_resident_memory_bytes{${N}}`, '{{node}}']]],
      ['CPU', 'percentunit', [[`rate(cpc_process_cpu_seconds_total{${N}}[${R}])`, '{{node}}']]],
      ['Event loop lag p99', 's', [[`cpc_nodejs_eventloop_lag_p99_seconds{${N}}`, '{{node}}']]],
      ['Process start time', 'dateTimeFromNow', [[`cpc_process_start_time_seconds{${N}} * 1000`, '{{node}}']]],
    ],
  },
  {
    uid: 'cpc-latency',
    title: 'cpc-net / Latency by priority',
    question: 'How fast are messages delivered, by priority, and what do links and dials cost?',
    panels: [
      [
        'Delivery latency p99 by priority (receiver)',
        's',
        [[q(0.99, 'cpc_router_delivery_latency_seconds', ['priority']), '{{priority}}']],
      ],
      ['Delivery latency p50 by priority (receiver)', 's', [[q(0.5, 'cpc_router_delivery_latency_seconds', ['priority']), '{{priority}}']]],
      ['HIGH delivery p99 by node', 's', [[q(0.99, 'cpc_router_delivery_latency_seconds', ['node'], `priority="high", ${N}`), '{{node}}']]],
      [
        'Queue latency p99 by priority (sender: enqueue to written)',
        's',
        [[q(0.99, 'cpc_router_queue_latency_seconds', ['priority']), '{{priority}}']],
      ],
      [
        'Link RTT p50 / p99',
        's',
        [
          [q(0.5, 'cpc_link_rtt_seconds', ['node']), 'p50 {{node}}'],
          [q(0.99, 'cpc_link_rtt_seconds', ['node']), 'p99 {{node}}'],
        ],
      ],
      ['Dial duration p95 by result', 's', [[q(0.95, 'cpc_connection_manager_dial_duration_seconds', ['result']), '{{result}}']]],
      ['Write duration p99', 's', [[q(0.99, 'cpc_router_write_duration_seconds', ['node']), '{{node}}']]],
      [
        'Deliveries /s by priority',
        'ops',
        [[`sum by (priority) (rate(cpc_router_delivery_latency_seconds_count{${N}}[${R}]))`, '{{priority}}']],
      ],
    ],
  },
  {
    uid: 'cpc-loss',
    title: 'cpc-net / Packet loss',
    question: 'Are links losing packets, and are messages being dropped?',
    panels: [
      [
        'Link loss, mean over connected links',
        'percentunit',
        [[`cpc_link_loss_ratio{stat="mean", ${N}}`, '{{node}}']],
        { thresholds: [0.05] },
      ],
      ['Link loss, worst link', 'percentunit', [[`cpc_link_loss_ratio{stat="max", ${N}}`, '{{node}}']], { thresholds: [0.25] }],
      ['Pings /s by result', 'ops', [[`sum by (result) (rate(cpc_link_pings_total{${N}}[${R}]))`, '{{result}}']]],
      [
        'Unanswered ping ratio',
        'percentunit',
        [
          [
            `sum by (node) (rate(cpc_link_pings_total{result="timed_out", ${N}}[${R}])) / sum by (node) (rate(cpc_link_pings_total{result="sent", ${N}}[${R}]))`,
            '{{node}}',
          ],
        ],
      ],
      ['UDP loss probes /s by result', 'ops', [[`sum by (result) (rate(cpc_link_probes_total{${N}}[${R}]))`, '{{result}}']]],
      [
        'Dropped messages /s by reason',
        'ops',
        [[`sum by (reason, priority) (rate(cpc_router_dropped_total{${N}}[${R}]))`, '{{reason}} {{priority}}']],
      ],
      ['Rejected inbound /s by reason', 'ops', [[`sum by (reason) (rate(cpc_router_rejected_total{${N}}[${R}]))`, '{{reason}}']]],
      ['Failed writes /s', 'ops', [[`sum by (result) (rate(cpc_router_writes_total{result!="ok", ${N}}[${R}]))`, '{{result}}']]],
    ],
  },
  {
    uid: 'cpc-throughput',
    title: 'cpc-net / Throughput',
    question: 'How many messages and bytes flow in and out, of which type and priority?',
    panels: [
      ['Router bytes sent /s by priority', 'Bps', [[`sum by (priority) (rate(cpc_router_bytes_sent_total{${N}}[${R}]))`, '{{priority}}']]],
      [
        'Router bytes received /s by priority',
        'Bps',
        [[`sum by (priority) (rate(cpc_router_bytes_received_total{${N}}[${R}]))`, '{{priority}}']],
      ],
      ['Messages sent /s by type', 'ops', [[`sum by (type) (rate(cpc_router_messages_sent_total{${N}}[${R}]))`, '{{type}}']]],
      ['Messages received /s by type', 'ops', [[`sum by (type) (rate(cpc_router_messages_received_total{${N}}[${R}]))`, '{{type}}']]],
      ['Delivered /s by priority', 'ops', [[`sum by (priority) (rate(cpc_router_delivered_total{${N}}[${R}]))`, '{{priority}}']]],
      [
        'Link bytes /s by node and direction',
        'Bps',
        [[`sum by (node, direction) (rate(cpc_link_bytes_total{${N}}[${R}]))`, '{{node}} {{direction}}']],
      ],
      ['Channel bytes /s by direction', 'Bps', [[`sum by (direction) (rate(cpc_channel_bytes_total{${N}}[${R}]))`, '{{direction}}']]],
      [
        'libp2p bytes /s by protocol (top 10)',
        'Bps',
        [[`topk(10, sum by (protocol) (rate(libp2p_data_transfer_bytes_total{${N}}[${R}])))`, '{{protocol}}']],
      ],
      ['Forwarded /s', 'ops', [[`sum by (node) (rate(cpc_router_forwarded_total{${N}}[${R}]))`, '{{node}}']]],
    ],
  },
  {
    uid: 'cpc-discovery',
    title: 'cpc-net / Discovery and DHT',
    question: 'Are peers being found, and is the DHT healthy?',
    panels: [
      [
        'Peers discovered /s by source',
        'ops',
        [[`sum by (source) (rate(cpc_discovery_peers_discovered_total{${N}}[${R}]))`, '{{source}}']],
      ],
      ['Known peers', 'short', [[`cpc_discovery_known_peers{${N}}`, '{{node}}']]],
      ['DHT routing table size', 'short', [[`cpc_discovery_routing_table_size{${N}}`, '{{node}}']]],
      ['DHT query duration p95 by kind', 's', [[q(0.95, 'cpc_discovery_dht_query_duration_seconds', ['kind']), '{{kind}}']]],
      [
        'DHT queries /s by kind and outcome',
        'ops',
        [[`sum by (kind, outcome) (rate(cpc_discovery_dht_query_duration_seconds_count{${N}}[${R}]))`, '{{kind}} {{outcome}}']],
      ],
      [
        'Discovery dials /s by source and outcome',
        'ops',
        [[`sum by (source, outcome) (rate(cpc_discovery_dials_total{${N}}[${R}]))`, '{{source}} {{outcome}}']],
      ],
      ['Peer exchange messages /s', 'ops', [[`sum by (node) (rate(cpc_discovery_peer_exchange_messages_total{${N}}[${R}]))`, '{{node}}']]],
      ['Peers by connection state', 'short', [[`sum by (state) (cpc_connection_manager_peers{${N}})`, '{{state}}']]],
      ['Dials /s by result', 'ops', [[`sum by (result) (rate(cpc_connection_manager_dials_total{${N}}[${R}]))`, '{{result}}']]],
      ['Retry queue size', 'short', [[`cpc_connection_manager_retry_queue_size{${N}}`, '{{node}}']]],
      ['Peer score median', 'short', [[q(0.5, 'cpc_peer_score', ['node']), '{{node}}']]],
      ['Groups joined', 'short', [[`cpc_discovery_groups_joined{${N}}`, '{{node}}']]],
    ],
  },
  {
    uid: 'cpc-router',
    title: 'cpc-net / Router queues, drops and rate limits',
    question: 'Are queues backing up, is the router shedding or rate-limiting, and why are messages dropped?',
    panels: [
      ['Queue depth by priority', 'short', [[`sum by (priority) (cpc_router_queue_depth{${N}})`, '{{priority}}']]],
      ['Queue bytes by node', 'bytes', [[`sum by (node) (cpc_router_queue_bytes{${N}})`, '{{node}}']]],
      ['Shed level (0 none, 1 LOW, 2 LOW+MEDIUM)', 'short', [[`cpc_router_shed_level{${N}}`, '{{node}}']], { thresholds: [1] }],
      ['Router event loop delay', 's', [[`cpc_router_event_loop_delay_seconds{${N}}`, '{{node}}']]],
      [
        'Dropped /s by reason and priority',
        'ops',
        [[`sum by (reason, priority) (rate(cpc_router_dropped_total{${N}}[${R}]))`, '{{reason}} {{priority}}']],
      ],
      [
        'Rate-limited inbound /s by type and priority',
        'ops',
        [[`sum by (type, priority) (rate(cpc_router_rate_limited_total{${N}}[${R}]))`, '{{type}} {{priority}}']],
      ],
      ['Rate limiter tracked peers', 'short', [[`cpc_router_rate_limiter_peers{${N}}`, '{{node}}']]],
      ['Outbox entries', 'short', [[`cpc_router_outbox_entries{${N}}`, '{{node}}']]],
      [
        'Outbox rejected /s and expired /s',
        'ops',
        [
          [`sum by (node) (rate(cpc_router_outbox_rejected_total{${N}}[${R}]))`, 'rejected {{node}}'],
          [`sum by (node) (rate(cpc_router_outbox_expired_total{${N}}[${R}]))`, 'expired {{node}}'],
        ],
      ],
      ['Dedup hits /s', 'ops', [[`sum by (node) (rate(cpc_router_dedup_hits_total{${N}}[${R}]))`, '{{node}}']]],
      ['Reassembly buffer', 'bytes', [[`cpc_router_reassembly_bytes{${N}}`, '{{node}}']]],
      ['Batch size p90 (frames per write)', 'short', [[q(0.9, 'cpc_router_batch_frames', ['node']), '{{node}}']]],
    ],
  },
  {
    uid: 'cpc-relay-nat',
    title: 'cpc-net / Relay and NAT',
    question: 'Is the relay keeping NATed peers reachable, and how much traffic goes through it?',
    panels: [
      [
        'Relay reservations used',
        'percentunit',
        [['cpc_relay_reservations / cpc_relay_reservations_max', '{{node}}']],
        { type: 'stat', w: 6, thresholds: [0.9] },
      ],
      [
        'Reservations held and max',
        'short',
        [
          ['cpc_relay_reservations', 'held {{node}}'],
          ['cpc_relay_reservations_max', 'max {{node}}'],
        ],
      ],
      [
        'Relayed bytes /s by direction',
        'Bps',
        [[`sum by (node, direction) (rate(cpc_relay_relayed_bytes_total[${R}]))`, '{{node}} {{direction}}']],
      ],
      ['Sends by route (direct, relay, queued) /s', 'ops', [[`sum by (route) (rate(cpc_router_routes_total{${N}}[${R}]))`, '{{route}}']]],
      [
        'libp2p connections by kind',
        'short',
        [
          [
            `sum by (node, libp2p_connection_manager_connections) (libp2p_connection_manager_connections{${N}})`,
            '{{node}} {{libp2p_connection_manager_connections}}',
          ],
        ],
      ],
      ['AutoNAT v2 dial-back results (addresses under test)', 'short', [[`libp2p_autonat_v2_dial_results{${N}}`, '{{node}}']]],
      ['Observed addresses (NAT mappings seen by peers)', 'short', [[`libp2p_address_manager_observed_addresses{${N}}`, '{{node}}']]],
      ['Relay reservation queue (clients)', 'short', [[`libp2p_relay_reservation_queue{${N}}`, '{{node}}']]],
    ],
  },
]

function panel(spec, id, x, y) {
  const [title, unit, targets, opts = {}] = spec
  const type = opts.type ?? 'timeseries'
  const w = opts.w ?? 12
  const h = type === 'stat' ? 4 : 8
  const steps = [{ color: 'green', value: null }, ...(opts.thresholds ?? []).map((v) => ({ color: 'red', value: v }))]
  return {
    id,
    type,
    title,
    datasource: DS,
    gridPos: { x, y, w, h },
    fieldConfig: {
      defaults: {
        unit,
        thresholds: { mode: 'absolute', steps },
        ...(type === 'timeseries' ? { custom: { lineWidth: 1, fillOpacity: 10, showPoints: 'never' } } : {}),
      },
      overrides: [],
    },
    options:
      type === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto' }
        : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: targets.map(([expr, legendFormat], i) => ({
      datasource: DS,
      refId: String.fromCharCode(65 + i),
      expr,
      legendFormat,
      range: true,
    })),
  }
}

function dashboard(d) {
  let x = 0
  let y = 0
  let rowH = 0
  const panels = d.panels.map((spec, i) => {
    const p = panel(spec, i + 1, 0, 0)
    if (x + p.gridPos.w > 24) {
      x = 0
      y += rowH
      rowH = 0
    }
    p.gridPos.x = x
    p.gridPos.y = y
    x += p.gridPos.w
    rowH = Math.max(rowH, p.gridPos.h)
    return p
  })
  const links = DASHBOARDS.filter((o) => o.uid !== d.uid).map((o) => ({
    title: o.title.replace('cpc-net / ', ''),
    type: 'link',
    url: `/d/${o.uid}`,
    icon: 'dashboard',
  }))
  return {
    uid: d.uid,
    title: d.title,
    description: d.question,
    tags: ['cpc-net'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    links,
    templating: {
      list: [
        {
          name: 'job',
          label: 'role',
          type: 'query',
          datasource: DS,
          query: { query: 'label_values(up{job=~"cpc-.*"}, job)', refId: 'job' },
          definition: 'label_values(up{job=~"cpc-.*"}, job)',
          includeAll: true,
          multi: true,
          allValue: 'cpc-.*',
          current: { text: 'All', value: '$__all' },
          refresh: 2,
        },
        {
          name: 'node',
          label: 'node',
          type: 'query',
          datasource: DS,
          query: { query: 'label_values(cpc_process_start_time_seconds{job=~"$job"}, node)', refId: 'node' },
          definition: 'label_values(cpc_process_start_time_seconds{job=~"$job"}, node)',
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
          refresh: 2,
        },
      ],
    },
    panels,
  }
}

export function renderDashboards() {
  return Object.fromEntries(DASHBOARDS.map((d) => [`${d.uid}.json`, `${JSON.stringify(dashboard(d), null, 2)}\n`]))
}

export const DASHBOARD_QUESTIONS = DASHBOARDS.map((d) => ({ uid: d.uid, title: d.title, question: d.question }))

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = renderDashboards()
  if (process.argv.includes('--check')) {
    const stale = Object.entries(files).filter(
      ([f, text]) => !fs.existsSync(path.join(outDir, f)) || fs.readFileSync(path.join(outDir, f), 'utf8') !== text,
    )
    const extra = fs.readdirSync(outDir).filter((f) => f.endsWith('.json') && !(f in files))
    if (stale.length > 0 || extra.length > 0) {
      console.error(
        `dashboards out of date: ${[...stale.map(([f]) => f), ...extra].join(', ')}; run node deploy/scripts/build-dashboards.mjs`,
      )
      process.exit(1)
    }
  } else {
    fs.mkdirSync(outDir, { recursive: true })
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(outDir, f), text)
    console.log(`wrote ${Object.keys(files).length} dashboards to ${outDir}`)
  }
}
