#!/usr/bin/env node
// Contracts: proto/ is the only source of schemas. `generate` writes the ts-proto code into
// packages/protocol/src/gen (never edited by hand); `check` regenerates into a temporary folder and
// fails if the committed code differs (stale or hand-edited), so the test command catches it.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const genRel = 'packages/protocol/src/gen'
const bin = path.join(root, 'node_modules/.bin')
const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` }

function buf(args) {
  const r = spawnSync(path.join(bin, 'buf'), args, { cwd: root, env, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

function listFiles(dir, base = dir) {
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? listFiles(p, base) : [path.relative(base, p)]
  })
}

const mode = process.argv[2]
if (mode === 'generate') {
  buf(['lint'])
  fs.rmSync(path.join(root, genRel), { recursive: true, force: true })
  buf(['generate'])
  console.log(`contracts: generated ${listFiles(path.join(root, genRel)).length} files in ${genRel}`)
} else if (mode === 'check') {
  buf(['lint'])
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cpc-contracts-'))
  try {
    buf(['generate', '-o', tmp])
    const fresh = path.join(tmp, genRel)
    const committed = path.join(root, genRel)
    const a = listFiles(fresh).sort()
    const b = listFiles(committed).sort()
    const problems = []
    for (const f of new Set([...a, ...b])) {
      const fa = path.join(fresh, f)
      const fb = path.join(committed, f)
      if (!fs.existsSync(fb)) problems.push(`missing: ${f}`)
      else if (!fs.existsSync(fa)) problems.push(`not generated from proto/: ${f}`)
      else if (!fs.readFileSync(fa).equals(fs.readFileSync(fb))) problems.push(`stale or edited by hand: ${f}`)
    }
    if (problems.length) {
      console.error(`contracts: ${genRel} does not match proto/ (run \`npm run generate\`):`)
      for (const p of problems) console.error(`  - ${p}`)
      process.exit(1)
    }
    console.log(`contracts: ${a.length} generated files match proto/`)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
} else {
  console.error('usage: contracts.mjs generate|check')
  process.exit(2)
}
