#!/usr/bin/env node
// cpc-bootstrap: see README.md. `cpc-bootstrap [start] [options]`. The Node 20 shim loads first.
import '@cpc/observability/node-compat'
import { runApp } from '@cpc/network'

const args = process.argv.slice(2)
const argv = args[0] === 'start' ? args.slice(1) : args
process.exit(await runApp(process, { app: 'cpc-bootstrap', role: 'bootstrap', argv, synopsis: 'cpc-bootstrap [start] [--config FILE] [--data-dir DIR] [options]' }))
