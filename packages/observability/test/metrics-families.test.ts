import { describe, expect, it } from '@jest/globals'
import { readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import {
  LATENCY_FAMILIES,
  LOSS_FAMILIES,
  PROCESS_FAMILIES,
  SEED_METRIC_FAMILIES,
  THROUGHPUT_FAMILIES,
  createMetricsRegistry,
  familiesInExposition,
} from '../src/index.js'

// The packages whose metrics.ts define the cpc_ families; read as text, since observability must not
// import them (dependencies point the other way).
const packagesDir = path.resolve(import.meta.dirname, '../..')
const metricsSources = [
  'connection-manager/src/link/metrics.ts',
  'connection-manager/src/metrics.ts',
  'router/src/metrics.ts',
  'discovery/src/metrics.ts',
  'scoring/src/metrics.ts',
]
  .map((file) => path.join(packagesDir, file))
  .filter((file) => existsSync(file))
  .map((file) => readFileSync(file, 'utf8'))
  .join('\n')

describe('metric families', () => {
  it('names the seed families: latency, loss and throughput', () => {
    expect(Object.values(LATENCY_FAMILIES)).toEqual(expect.arrayContaining(['cpc_link_rtt_seconds', 'cpc_router_delivery_latency_seconds']))
    expect(Object.values(LOSS_FAMILIES)).toEqual(expect.arrayContaining(['cpc_link_loss_ratio', 'cpc_router_dropped_total']))
    expect(Object.values(THROUGHPUT_FAMILIES)).toEqual(
      expect.arrayContaining(['cpc_link_bytes_total', 'cpc_router_messages_sent_total', 'cpc_router_bytes_sent_total']),
    )
    expect(new Set(SEED_METRIC_FAMILIES).size).toBe(SEED_METRIC_FAMILIES.length)
  })

  it('every cpc_ family named here is defined by a package metrics.ts', () => {
    const defined = new Set([...metricsSources.matchAll(/name: '(cpc_[a-z0-9_]+)'/g)].map((m) => m[1]))
    const ours = SEED_METRIC_FAMILIES.filter((name) => name.startsWith('cpc_') && !Object.values(PROCESS_FAMILIES).includes(name as never))
    expect(defined.size).toBeGreaterThan(0)
    expect(ours.filter((name) => !defined.has(name))).toEqual([])
  })

  it('the process families exist in a live registry', async () => {
    const families = familiesInExposition(await createMetricsRegistry().metrics())
    for (const name of Object.values(PROCESS_FAMILIES)) expect(families).toContain(name)
  })

  it('familiesInExposition reads # TYPE lines only', () => {
    const text = '# HELP a_total x\n# TYPE a_total counter\na_total 1\n# TYPE b gauge\nb{x="1"} 2\n'
    expect([...familiesInExposition(text)]).toEqual(['a_total', 'b'])
  })
})
