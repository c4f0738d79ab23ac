#!/usr/bin/env node
// Entry point of the two-node demo (`npm start`). The Node 20 shim loads first.
import '@cpc/observability/node-compat'
import { runDemo } from './demo.js'

const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 2)
const controller = new AbortController()
process.once('SIGINT', () => controller.abort())
process.once('SIGTERM', () => controller.abort())

try {
  const result = await runDemo({ rounds, print: (line) => console.log(line), signal: controller.signal })
  // Exactly the one tampered message must be rejected, and nothing else.
  process.exitCode = result.rejected.length === 1 && result.rejected[0] === 'ERR_INVALID_SIGNATURE' ? 0 : 1
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
}
