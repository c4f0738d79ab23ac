#!/usr/bin/env node
// `npm run fuzz [-- options]`: builds the packages and apps (Nx, cached; `--no-build` skips it), compiles lab/
// and runs lab/dist/fuzz-main.js (see lab/README.md). Exit code of the run.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const step = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
if (!process.argv.includes('--no-build')) {
  step([path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '--outputStyle=stream'])
}
step([path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'lab/tsconfig.json'])
step(['lab/dist/fuzz-main.js', ...process.argv.slice(2).filter((a) => a !== '--no-build')])
