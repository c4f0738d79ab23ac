#!/usr/bin/env node
// Entry point of the devnet (`npm start`, after tools/start.mjs built the apps). The Node 20 shim loads first.
//   node apps/node/dist/devnet/main.js [--nodes N] [--for SECONDS] [--rate OPS] [--data-dir DIR] [--plain]
import '@cpc/observability/node-compat'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Devnet } from './devnet.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const usage = `usage: npm start -- [--nodes N] [--for SECONDS] [--rate OPS_PER_S] [--data-dir DIR] [--plain] [--log-level LEVEL]
  --nodes N        nodes besides the bootstrap and the relay (default 4; the last one is relay-only)
  --for SECONDS    stop by itself after this long (default: until Ctrl-C)
  --rate OPS       traffic: sends and broadcasts per second over the devnet (default 5; 0 = none)
  --data-dir DIR   data dirs and logs (default .devnet/last, emptied at start)
  --plain          periodic plain lines instead of the redrawn table (default when stdout is not a terminal)
  --log-level L    log level of the processes (default warn; logs go to DIR/<name>.log)
`

let values
try {
  values = parseArgs({
    args: process.argv.slice(2),
    options: {
      nodes: { type: 'string', default: '4' },
      for: { type: 'string' },
      rate: { type: 'string', default: '5' },
      'data-dir': { type: 'string', default: path.join(root, '.devnet', 'last') },
      plain: { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'warn' },
      help: { type: 'boolean', default: false },
    },
  }).values
} catch (err) {
  process.stderr.write(`devnet: ${(err as Error).message}\n${usage}`)
  process.exit(2)
}
if (values.help) {
  process.stdout.write(usage)
  process.exit(0)
}
const nodes = Number(values.nodes)
const forSeconds = values.for === undefined ? undefined : Number(values.for)
const rate = Number(values.rate)
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 200) fail(`--nodes must be a whole number from 1 to 200 (got '${values.nodes}')`)
if (forSeconds !== undefined && !(forSeconds > 0)) fail(`--for must be a positive number of seconds (got '${values.for}')`)
if (!(rate >= 0)) fail(`--rate must be a number >= 0 (got '${values.rate}')`)

const devnet = new Devnet({
  root,
  nodes,
  dataDir: path.resolve(values['data-dir']),
  ...(forSeconds !== undefined ? { forSeconds } : {}),
  rate,
  out: process.stdout,
  tty: process.stdout.isTTY === true && !values.plain,
  logLevel: values['log-level'],
})

const controller = new AbortController()
let signals = 0
const onSignal = (): void => {
  // First Ctrl-C: stop gracefully. Second: SIGKILL every child and leave at once.
  if (++signals === 1) {
    process.stdout.write('\nstopping the devnet (Ctrl-C again to kill at once)...\n')
    controller.abort()
    return
  }
  devnet.killNow()
  process.exit(130)
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
process.on('SIGHUP', onSignal)
// Whatever ends this process, no child outlives it.
process.on('exit', () => devnet.killNow())
process.on('uncaughtException', (err) => {
  process.stderr.write(`devnet: ${err.stack ?? err.message}\n`)
  devnet.killNow()
  process.exit(1)
})

process.exitCode = await devnet.run(controller.signal)

function fail(message: string): never {
  process.stderr.write(`devnet: ${message}\n${usage}`)
  process.exit(2)
}
