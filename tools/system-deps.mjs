#!/usr/bin/env node
// Debian packages the test suite uses for real network tests (network namespaces, iptables rules) and
// for the deploy tests (Prometheus and promtool).
// Installed when missing and we are root with apt-get; otherwise the tests that need them skip and say so.
import { spawnSync } from 'node:child_process'

export const SYSTEM_PACKAGES = [
  { bin: 'iptables', pkg: 'iptables' },
  { bin: 'ip', pkg: 'iproute2' },
  // prometheus + promtool for deploy/test (promtool checks, a real Prometheus scraping a devnet).
  { bin: 'promtool', pkg: 'prometheus' },
]

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0

export function ensureSystemPackages(list = SYSTEM_PACKAGES) {
  const missing = list.filter((p) => !has(p.bin))
  if (missing.length === 0) return true
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    console.warn(`system-deps: missing ${missing.map((m) => m.bin).join(', ')}; tests that need them will be skipped`)
    return false
  }
  console.log(`system-deps: installing ${missing.map((m) => m.pkg).join(' ')} with apt-get`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing.map((m) => m.pkg)], { stdio: 'inherit', env })
  return r.status === 0
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(ensureSystemPackages() ? 0 : 1)
