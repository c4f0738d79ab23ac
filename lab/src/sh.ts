import { spawnSync } from 'node:child_process'
import { LabCommandError } from './errors.js'

/** Every system command the lab runs is bounded by this (ms). */
export const COMMAND_TIMEOUT_MS = 10_000

export interface ShResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs argv synchronously (ip/iptables/tc are fast), throws LabCommandError unless allowFail. */
export function sh(argv: string[], opts: { allowFail?: boolean; input?: string; timeoutMs?: number } = {}): ShResult {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? COMMAND_TIMEOUT_MS })
  const res = { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error != null ? String(r.error) : '') }
  if (res.status !== 0 && opts.allowFail !== true) throw new LabCommandError(argv, res.status, res.stderr)
  return res
}

export function has(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0
}
