#!/usr/bin/env node
// `npm run lab [-- --quick] [-- --runs=N]`: builds the packages, typechecks and compiles lab/, and runs
// every lab scenario in real network namespaces (root only). See lab/README.md.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureSystemPackages } from './system-deps.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const step = (args, opts = {}) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', ...opts })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
ensureSystemPackages()
const args = process.argv.slice(2).filter((a) => a !== '--no-build')
if (!process.argv.includes('--no-build')) {
  step([path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '--outputStyle=stream'])
}
const tsc = path.join(root, 'node_modules/typescript/bin/tsc')
step([tsc, '-p', 'lab/tsconfig.test.json'])
step([tsc, '-p', 'lab/tsconfig.json'])
step(['lab/dist/run.js', ...args])
