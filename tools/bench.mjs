#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --only P1,P3] [-- --profile]`: builds the packages, compiles bench/ and
// runs it (bench/src/run.ts: every suite in its own processes, table, JSON, docs/benchmarks.md).
// `--no-build` skips the Nx build (npm test uses it after its own build).
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const step = (args, opts = {}) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', ...opts })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
if (!process.argv.includes('--no-build')) {
  step([path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '--outputStyle=stream'])
}
step([path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'bench/tsconfig.json'])
step(['--expose-gc', 'bench/dist/run.js', ...process.argv.slice(2).filter((a) => a !== '--no-build')])
