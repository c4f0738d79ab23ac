#!/usr/bin/env node
// cpc-node: a full cpc-net node. `cpc-node start [options]` (see README.md). The Node 20 shim loads first.
import '@cpc/observability/node-compat'
import { EXIT_CONFIG, runApp } from '@cpc/network'

const [command, ...rest] = process.argv.slice(2)
const synopsis = 'cpc-node start [--config FILE] [--data-dir DIR] [options]'

if (command === 'start') {
  process.exit(await runApp(process, { app: 'cpc-node', role: 'node', argv: rest, synopsis }))
} else if (command === undefined || command === '--help' || command === 'help') {
  process.exit(await runApp(process, { app: 'cpc-node', role: 'node', argv: ['--help'], synopsis }))
} else {
  process.stderr.write(`cpc-node: unknown command '${command}': expected 'start' (cpc-node start --help)\n`)
  process.exit(EXIT_CONFIG)
}
