#!/usr/bin/env node
// `npm test`: the one test command (README, .ci/run). It checks the module boundaries, then has Nx run
// check-generated, lint, typecheck, build and every project's tests, and ends with one line:
// `N passed, N failed[, N skipped]` summed over every project's jest results.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureSystemPackages } from './system-deps.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const resultsDir = path.join(root, '.test-results')
const extra = process.argv.slice(2)

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
  return r.status ?? 1
}

fs.rmSync(resultsDir, { recursive: true, force: true })
ensureSystemPackages()
let failedSteps = 0
failedSteps += run(process.execPath, [path.join(root, 'tools/check-boundaries.mjs')]) === 0 ? 0 : 1
const nx = path.join(root, 'node_modules/nx/dist/bin/nx.js')
const parallel = process.env.CPC_TEST_PARALLEL ?? '2'
failedSteps +=
  run(process.execPath, [nx, 'run-many', '-t', 'check-generated', 'lint', 'typecheck', 'build', 'test', `--parallel=${parallel}`, '--outputStyle=stream', ...extra]) === 0 ? 0 : 1

// Workspace-level code outside the Nx projects: tools/ and bench/ are linted, and the benchmark
// harness runs in its quick mode (milliseconds per loop) so it cannot rot.
failedSteps += run(process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), 'tools', 'bench/src', 'jest.preset.mjs', 'eslint.config.mjs']) === 0 ? 0 : 1
failedSteps += run(process.execPath, [path.join(root, 'tools/bench.mjs'), '--quick', '--no-build']) === 0 ? 0 : 1
// The network lab (lab/, not an Nx project): typechecked, linted, and its tests run through run-jest
// like a project's: topology, NAT traversal ×3 with the hole punch, link- and node-level loss truth
// (real network namespaces; skipped with the reason printed when not root), and 3,000 fuzz inputs into
// a live cpc-node on 127.0.0.1 (needs the built apps). About 4 minutes.
failedSteps += run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'lab/tsconfig.test.json']) === 0 ? 0 : 1
failedSteps += run(process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), 'lab']) === 0 ? 0 : 1
failedSteps += spawnSync(process.execPath, [path.join(root, 'tools/run-jest.mjs')], { cwd: path.join(root, 'lab'), stdio: 'inherit' }).status === 0 ? 0 : 1
// deploy/ (not an Nx project): typechecked, linted, and its tests (compose file against the compose spec,
// promtool, a real Prometheus scraping a devnet, dashboard and alert metric names) run through run-jest.
failedSteps += run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'deploy/tsconfig.json']) === 0 ? 0 : 1
failedSteps += run(process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), 'deploy']) === 0 ? 0 : 1
failedSteps += spawnSync(process.execPath, [path.join(root, 'tools/run-jest.mjs')], { cwd: path.join(root, 'deploy'), stdio: 'inherit' }).status === 0 ? 0 : 1

let passed = 0
let failed = 0
let skipped = 0
let suitesFailed = 0
if (fs.existsSync(resultsDir)) {
  // One JSON per project: .test-results/@cpc/<name>.json (Nx projects) and .test-results/workspace/<dir>.json.
  const files = fs.readdirSync(resultsDir, { recursive: true }).map(String).filter((f) => f.endsWith('.json'))
  for (const f of files) {
    const r = JSON.parse(fs.readFileSync(path.join(resultsDir, f), 'utf8'))
    passed += r.numPassedTests
    failed += r.numFailedTests
    skipped += r.numPendingTests + (r.numTodoTests ?? 0)
    // A suite that fails to load counts no test; count it as a failure so it cannot hide.
    suitesFailed += r.testResults.filter((s) => s.status === 'failed' && s.assertionResults.length === 0).length
  }
}
failed += suitesFailed
if (failedSteps > 0 && failed === 0) failed = failedSteps
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failedSteps > 0 || failed > 0 || passed === 0 ? 1 : 0)
