#!/usr/bin/env node
// Entry point of the `cpc` CLI. The Node 20 shim loads first.
import '@cpc/observability/node-compat'
import { runCli } from './run.js'

const controller = new AbortController()
let interrupted = 0
const onSignal = (): void => {
  // The first Ctrl-C ends the run cleanly (a watch exits 0); a second one does not wait.
  if (++interrupted > 1) process.exit(130)
  controller.abort()
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal })
// Do not wait for gRPC's lingering timers once the answer is out.
process.stdout.write('', () => process.exit())
