#!/usr/bin/env node
// `npm start`: builds what it needs, then runs the local network. For now: the two-node demo (two
// libp2p nodes on 127.0.0.1 exchanging signed /cpc/1.0.0 messages at each priority); the devnet
// (bootstrap, relay, several nodes) replaces it in the apps issue.
import { spawn, spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const build = spawnSync(process.execPath, [path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'run', '@cpc/node:build', '--outputStyle=stream'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
if (build.status !== 0) {
  console.error('npm start: the build failed (run `npx nx run @cpc/node:build` to see why)')
  process.exit(build.status ?? 1)
}
const child = spawn(process.execPath, [path.join(root, 'apps/node/dist/demo-main.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
