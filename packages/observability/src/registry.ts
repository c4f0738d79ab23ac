// The prom-client registry every cpc-net component registers on, and the bridge that puts
// libp2p's own metrics on the same registry.
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import type { PrometheusMetricsInit } from '@libp2p/prometheus-metrics'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { DEFAULT_PROCESS_METRICS_PREFIX } from './constants.js'

export interface MetricsRegistryInit {
  /** Prefix of the process/runtime metrics (default `cpc_`, giving `cpc_process_*` and `cpc_nodejs_*`). */
  prefix?: string
  /** Labels added to every series of this registry (e.g. `{ node: 'node-1' }`): keep them low-cardinality. */
  defaultLabels?: Record<string, string>
  /** Collect prom-client's process and Node runtime metrics (default true). */
  collectProcessMetrics?: boolean
  /** Event-loop lag histogram buckets etc. are prom-client's defaults; this is its monitoring precision. */
  eventLoopMonitoringPrecision?: number
}

/**
 * A fresh prom-client `Registry` (never the global `register`), with process metrics when enabled.
 * One registry per node: hand it to every `createXMetrics(registry)` and to `libp2pMetrics(registry)`.
 */
export function createMetricsRegistry(init: MetricsRegistryInit = {}): Registry {
  const registry = new Registry()
  if (init.defaultLabels !== undefined) registry.setDefaultLabels(init.defaultLabels)
  if (init.collectProcessMetrics !== false) {
    collectDefaultMetrics({
      register: registry,
      prefix: init.prefix ?? DEFAULT_PROCESS_METRICS_PREFIX,
      ...(init.eventLoopMonitoringPrecision !== undefined ? { eventLoopMonitoringPrecision: init.eventLoopMonitoringPrecision } : {}),
    })
  }
  return registry
}

/** The non-`libp2p_` families @libp2p/prometheus-metrics registers itself. */
const LIBP2P_OWN_EXTRA_FAMILIES = new Set(['nodejs_memory_usage_bytes', 'nodejs_memory_total_bytes', 'nodejs_fs_usage_bytes'])

/** True for a metric family that @libp2p/prometheus-metrics (or a libp2p component through it) registers. */
export function isLibp2pFamily(name: string): boolean {
  return name.startsWith('libp2p_') || LIBP2P_OWN_EXTRA_FAMILIES.has(name)
}

export interface Libp2pMetricsInit {
  /**
   * Where `nodejs_fs_usage_bytes` stats the filesystem (default: the process cwd).
   */
  statfsLocation?: string
}

type Libp2pMetricsFactory = ReturnType<typeof prometheusMetrics>

/**
 * The `metrics` option of `createLibp2p`, putting libp2p's metric families on `registry`.
 *
 * @libp2p/prometheus-metrics 5.0.24 keeps a module-level map of metric objects shared by every node
 * of the process, and by default clears it (and prom-client's global `register`) whenever a node is
 * created. Measured consequences, and what this wrapper does about them:
 * - One registry per node (the intended use): works; each registry gets the families of its node.
 * - A second node created on a registry that already holds libp2p families (a node restarted in
 *   the same process, or two nodes sharing a registry) would throw "A metric with the name
 *   libp2p_data_transfer_bytes_total has already been registered". This wrapper first removes the
 *   libp2p families from that registry, so the newest node owns them; the older node's libp2p
 *   families leave the scrape (give each live node its own registry instead).
 * - `preserveExistingMetrics: true` is NOT used: with it, a second node reuses the first node's metric
 *   objects, so a second registry gets no libp2p families at all.
 * - `collectDefaultMetrics` is off here: process metrics belong to `createMetricsRegistry`, and a
 *   second collection on one registry would throw a duplicate-registration error.
 */
export function libp2pMetrics(registry: Registry, init: Libp2pMetricsInit = {}): Libp2pMetricsFactory {
  return (components) => {
    for (const metric of registry.getMetricsAsArray()) {
      const name = (metric as unknown as { name: string }).name
      if (isLibp2pFamily(name)) registry.removeSingleMetric(name)
    }
    const options: Partial<PrometheusMetricsInit> = {
      registry,
      collectDefaultMetrics: false,
      preserveExistingMetrics: false,
      ...(init.statfsLocation !== undefined ? { statfsLocation: init.statfsLocation } : {}),
    }
    return prometheusMetrics(options)(components)
  }
}
