#!/usr/bin/env node
// Runs jest for the project in the current directory in ESM mode and records its results in
// <root>/.test-results/<project>.json, which tools/test.mjs sums into the closing line.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
// Nx projects are named by their package.json; workspace folders without one (lab/) by folder name.
const pkg = fs.existsSync('package.json') ? JSON.parse(fs.readFileSync('package.json', 'utf8')) : { name: `workspace/${path.basename(process.cwd())}` }
const outDir = path.join(root, '.test-results')
fs.mkdirSync(outDir, { recursive: true })
// Exactly the path nx.json declares as the test target's output ({workspaceRoot}/.test-results/
// {projectName}.json, e.g. .test-results/@cpc/router.json), so a cache hit restores it.
const outputFile = path.join(outDir, `${pkg.name}.json`)
fs.mkdirSync(path.dirname(outputFile), { recursive: true })
fs.rmSync(outputFile, { force: true })

const jestBin = path.join(root, 'node_modules/jest/bin/jest.js')
const result = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning', jestBin, '--json', `--outputFile=${outputFile}`, ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : (process.env.FORCE_COLOR ?? '1') } },
)
process.exit(result.status ?? 1)
