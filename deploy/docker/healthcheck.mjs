#!/usr/bin/env node
// The image's HEALTHCHECK: GET /healthz on the process's metrics listener, exit 0 on 200, else 1.
// The listener is CPC_METRICS_BIND when set (0.0.0.0 or :: is reached on loopback), otherwise the
// role defaults 9464 (node), 9465 (bootstrap), 9466 (relay) are tried in turn: a HEALTHCHECK runs with
// the container's env, which does not say which program the entrypoint started.
/* global fetch */
const TIMEOUT_MS = 3000

function targets(bind) {
  if (bind === undefined || bind.trim() === '') return [9464, 9465, 9466].map((p) => `127.0.0.1:${p}`)
  const m = /^(?:\[(.+)\]|([^:]+)):(\d+)$/.exec(bind.trim())
  if (m === null) return []
  const host = m[1] ?? m[2]
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : m[1] !== undefined ? `[${host}]` : host
  return [`${local}:${m[3]}`]
}

async function healthy(hostPort) {
  try {
    const res = await fetch(`http://${hostPort}/healthz`, { signal: AbortSignal.timeout(TIMEOUT_MS) })
    return res.status === 200
  } catch {
    return false
  }
}

const list = targets(process.env.CPC_METRICS_BIND)
for (const t of list) {
  if (await healthy(t)) {
    console.log(`healthy: http://${t}/healthz`)
    process.exit(0)
  }
}
console.error(`unhealthy: no 200 from /healthz at ${list.join(', ') || `(bad CPC_METRICS_BIND '${process.env.CPC_METRICS_BIND}')`}`)
process.exit(1)
