// docs/lab.md holds three independently produced parts: the scenarios (`npm run lab`), the fuzz run
// (`npm run fuzz`) and the soak run (`npm run soak`). Each command rewrites only its own part, so a
// later `npm run lab` keeps the last fuzz and soak results (and says when and how they were made).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ROOT } from './apps.js'

export const DOC = path.join(ROOT, 'docs/lab.md')
const PARTS = ['lab', 'fuzz', 'soak'] as const
export type DocPart = (typeof PARTS)[number]
const marker = (p: DocPart): string => `<!-- lab-doc:${p} -->`

export function machine(): string {
  return `${os.hostname()}: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Linux ${os.release()}, Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(1)).join('/')} when written (the machine is shared)`
}

/** Replaces one part of docs/lab.md (creating the file if needed), keeping the others. */
export function writeDocPart(part: DocPart, body: string): void {
  const old = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : ''
  const parts = new Map<DocPart, string>()
  for (const p of PARTS) {
    const start = old.indexOf(marker(p))
    if (start < 0) continue
    const ends = PARTS.map((q) => old.indexOf(marker(q), start + 1)).filter((i) => i > start)
    parts.set(p, old.slice(start + marker(p).length, ends.length > 0 ? Math.min(...ends) : undefined).trim())
  }
  // A file from before the parts existed is the lab part.
  if (parts.size === 0 && old.trim() !== '') parts.set('lab', old.trim())
  parts.set(part, body.trim())
  const out = PARTS.filter((p) => parts.has(p)).map((p) => `${marker(p)}\n${parts.get(p)}\n`).join('\n')
  fs.mkdirSync(path.dirname(DOC), { recursive: true })
  fs.writeFileSync(DOC, out)
}
