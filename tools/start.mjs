#!/usr/bin/env node
// `npm start`: builds the apps (Nx, cached), then runs the local devnet in this process: a bootstrap,
// a relay and N nodes (default 4) as child processes on 127.0.0.1 with real traffic and a live view
// (apps/node/src/devnet). `npm start -- --nodes 20`, `npm start -- --for 30`, `npm start -- --help`.
// Running it in-process (not as a grandchild) means Ctrl-C reaches one launcher, which stops every child.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
process.stdout.write('npm start: building the apps (cached after the first run)...\n')
const build = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '--projects=@cpc/node,@cpc/bootstrap,@cpc/relay', '--outputStyle=stream'],
  { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
)
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}`)
  console.error('npm start: the build failed (run `npx nx run-many -t build` to see why)')
  process.exit(build.status ?? 1)
}
await import(pathToFileURL(path.join(root, 'apps/node/dist/devnet/main.js')).href)
