#!/usr/bin/env node
// Enforces the module boundaries of shared/ARCHITECTURE.md and shared/STYLE.md from each project's
// Nx tags (package.json "nx.tags"): which scopes a project may depend on, and that libraries never
// depend on apps. It checks both the declared dependencies and every import in the sources, including
// relative imports that escape the project and deep imports into another package's internals.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Which scopes each scope may depend on (Nx depConstraints semantics). */
export const depConstraints = {
  'scope:protocol': [],
  'scope:observability': [],
  'scope:scoring': ['scope:protocol'],
  'scope:connection-manager': ['scope:protocol', 'scope:scoring', 'scope:observability'],
  'scope:discovery': ['scope:protocol', 'scope:scoring', 'scope:connection-manager', 'scope:observability'],
  'scope:router': ['scope:protocol', 'scope:scoring', 'scope:connection-manager', 'scope:observability'],
  'scope:network': ['scope:protocol', 'scope:scoring', 'scope:connection-manager', 'scope:discovery', 'scope:router', 'scope:observability'],
  'scope:node': ['scope:protocol', 'scope:scoring', 'scope:connection-manager', 'scope:discovery', 'scope:router', 'scope:network', 'scope:observability'],
  'scope:bootstrap': ['scope:protocol', 'scope:network', 'scope:observability'],
  'scope:relay': ['scope:protocol', 'scope:network', 'scope:observability'],
  'scope:test-support': [],
}

/** Test support (type:test-support) may be used by any project, but only from test/ files and as a devDependency. */
const testSupportType = 'type:test-support'

const projects = []
for (const base of ['packages', 'apps']) {
  for (const d of fs.readdirSync(path.join(root, base))) {
    const dir = path.join(root, base, d)
    const pj = path.join(dir, 'package.json')
    if (!fs.existsSync(pj)) continue
    const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'))
    projects.push({ dir, pkg, tags: pkg.nx?.tags ?? [] })
  }
}
const byName = new Map(projects.map((p) => [p.pkg.name, p]))
const errors = []
const scopeOf = (p) => p.tags.find((t) => t.startsWith('scope:'))
const typeOf = (p) => p.tags.find((t) => t.startsWith('type:'))

function check(from, toName, where) {
  const to = byName.get(toName)
  if (!to || to === from) return
  if (typeOf(to) === testSupportType) {
    const inTests = where.startsWith(path.relative(root, path.join(from.dir, 'test')) + path.sep)
    const devDep = where.endsWith('package.json') && toName in (from.pkg.devDependencies ?? {}) && !(toName in (from.pkg.dependencies ?? {}))
    if (!inTests && !devDep) errors.push(`${where}: ${toName} is test support: import it only from test/ files, declare it only in devDependencies`)
    return
  }
  const fs_ = scopeOf(from)
  const ts_ = scopeOf(to)
  if (typeOf(to) === 'type:app') errors.push(`${where}: ${from.pkg.name} (library or app) must not depend on app ${toName}`)
  const allowed = depConstraints[fs_]
  if (!allowed) errors.push(`${from.pkg.name}: unknown scope tag ${fs_}`)
  else if (!allowed.includes(ts_)) errors.push(`${where}: ${from.pkg.name} (${fs_}) may not depend on ${toName} (${ts_})`)
}

function* sourceFiles(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'gen'].includes(e.name)) continue
    const p = path.join(dir, e.name)
    if (e.isDirectory()) yield* sourceFiles(p)
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) yield p
  }
}

const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g
for (const p of projects) {
  if (!scopeOf(p) || !typeOf(p)) errors.push(`${p.pkg.name}: needs scope:* and type:* tags in package.json nx.tags`)
  for (const dep of Object.keys({ ...p.pkg.dependencies, ...p.pkg.devDependencies })) check(p, dep, `${p.pkg.name}/package.json`)
  for (const sub of ['src', 'test']) {
    const d = path.join(p.dir, sub)
    if (!fs.existsSync(d)) continue
    for (const file of sourceFiles(d)) {
      const text = fs.readFileSync(file, 'utf8')
      const rel = path.relative(root, file)
      for (const m of text.matchAll(importRe)) {
        const spec = m[1] ?? m[2] ?? m[3]
        if (spec.startsWith('@cpc/')) {
          const [scope, name, ...rest] = spec.split('/')
          const target = `${scope}/${name}`
          check(p, target, rel)
          const exported = rest.length === 0 || (byName.get(target)?.pkg.exports ?? {})[`./${rest.join('/')}`]
          if (!exported) errors.push(`${rel}: deep import ${spec} (use the package's public surface)`)
          if (!(target in { ...p.pkg.dependencies, ...p.pkg.devDependencies }) && target !== p.pkg.name)
            errors.push(`${rel}: imports ${target}, which ${p.pkg.name}/package.json does not declare`)
        } else if (spec.startsWith('.')) {
          const resolved = path.resolve(path.dirname(file), spec)
          if (!resolved.startsWith(p.dir + path.sep)) errors.push(`${rel}: relative import ${spec} leaves the project`)
        }
      }
    }
  }
}

if (errors.length) {
  console.error(`module boundaries: ${errors.length} violation(s)`)
  for (const e of errors) console.error(`  - ${e}`)
  process.exit(1)
}
console.log(`module boundaries: ${projects.length} projects, no violations`)
