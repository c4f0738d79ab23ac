import { describe, expect, it } from '@jest/globals'
import { isExported, metricNames } from './promql.js'

describe('metricNames', () => {
  it('finds metric names, not functions, labels, keywords, strings or durations', () => {
    expect([
      ...metricNames(
        'histogram_quantile(0.99, sum by (priority, le) (rate(cpc_router_delivery_latency_seconds_bucket{node=~"$node"}[$__rate_interval])))',
      ),
    ]).toEqual(['cpc_router_delivery_latency_seconds_bucket'])
    expect([...metricNames('cpc_relay_reservations / cpc_relay_reservations_max >= 0.9')]).toEqual([
      'cpc_relay_reservations',
      'cpc_relay_reservations_max',
    ])
    expect([...metricNames('count(up{job=~"cpc-.*"} == 0) or vector(0)')]).toEqual(['up'])
    expect([
      ...metricNames('sum by (node, libp2p_connection_manager_connections) (libp2p_connection_manager_connections{node=~"x"})'),
    ]).toEqual(['libp2p_connection_manager_connections'])
    expect([...metricNames('a_total offset 5m + on (node) group_left (role) b_info * 1e3')]).toEqual(['a_total', 'b_info'])
  })

  it('histogram series count as their family', () => {
    const fams = new Set(['cpc_link_rtt_seconds', 'cpc_router_dropped_total'])
    expect(isExported('cpc_link_rtt_seconds_bucket', fams)).toBe(true)
    expect(isExported('cpc_link_rtt_seconds_count', fams)).toBe(true)
    expect(isExported('cpc_router_dropped_total', fams)).toBe(true)
    expect(isExported('cpc_router_droped_total', fams)).toBe(false)
  })
})
