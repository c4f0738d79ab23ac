// The real cpc-net apps inside lab namespaces: cpc-node, cpc-relay, cpc-bootstrap spawned from their
// builds (apps/*/dist/main.js; `tools/lab.mjs` builds them first), driven by the real `cpc` CLI and
// read through their /metrics. gRPC and /metrics stay on each namespace's own 127.0.0.1 (the apps'
// defaults), so every call runs inside the node's namespace.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LabProcess, JsonLine } from './process.js'
import type { Lab } from './topology.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const APP_MAIN = {
  node: path.join(ROOT, 'apps/node/dist/main.js'),
  relay: path.join(ROOT, 'apps/relay/dist/main.js'),
  bootstrap: path.join(ROOT, 'apps/bootstrap/dist/main.js'),
} as const
export const CLI_MAIN = path.join(ROOT, 'apps/node/dist/cli/main.js')

export type AppKind = keyof typeof APP_MAIN

/** The parts of `cpc ... --json` output the lab reads (proto3 JSON: defaults omitted). */
export interface PeerJson {
  peerId: string
  state?: string
  link?: { bytesOutPerSec?: number; bytesInPerSec?: number; lossRatio?: number }
}
export interface CliJson {
  peers?: PeerJson[]
  route?: string
  relayReservations?: number
  outboxDepth?: number
}
/** `cpc watch --json` peer_state payload */
export interface PeerStateJson {
  peerId?: string
  to?: string
  reason?: string
}

export interface AppInit {
  /** extra flags after the defaults (e.g. --bootstrap, --relay, --set path=JSON) */
  args?: string[]
  dataDir: string
  listenPort?: number
  /** ready-line wait (ms) */
  timeoutMs?: number
}

/** A running app: its process, ready line and where its gRPC and /metrics are (inside its namespace). */
export class LabApp {
  constructor(
    readonly lab: Lab,
    readonly host: string,
    readonly kind: AppKind,
    readonly proc: LabProcess,
    readonly ready: JsonLine,
    readonly init: AppInit,
  ) {}

  get peerId(): string {
    return this.ready.peerId as string
  }

  get grpc(): string {
    return this.ready.grpc as string
  }

  /** `/ip4/<host ip>/tcp/<port>/p2p/<id>`: the address other lab hosts dial. */
  addr(port = this.init.listenPort ?? 4001): string {
    return `/ip4/${this.lab.node(this.host).ip}/tcp/${port}/p2p/${this.peerId}`
  }

  /** One `cpc` CLI call in the node's namespace; its `--json` output parsed. Bounded by timeoutMs. */
  cli(args: string[], timeoutMs = 15_000): { status: number; json: CliJson | undefined; stdout: string; stderr: string } {
    const r = this.lab.execSync(this.host, [process.execPath, CLI_MAIN, '--addr', this.grpc, '--json', '--timeout', String(Math.ceil(timeoutMs / 1000) - 1), ...args], { allowFail: true, timeoutMs })
    let json: CliJson | undefined
    try {
      json = r.stdout.trim() === '' ? undefined : (JSON.parse(r.stdout) as CliJson)
    } catch {
      json = undefined
    }
    return { status: r.status ?? -1, json, stdout: r.stdout, stderr: r.stderr }
  }

  /** `cpc watch --json` as a long-lived child: one JSON line per event. */
  watch(args: string[] = [], label = `watch@${this.host}`): LabProcess {
    return this.lab.spawn(this.host, [process.execPath, CLI_MAIN, '--addr', this.grpc, '--json', 'watch', ...args], { label })
  }

  /** /metrics scraped inside the namespace: `name{labels}` → value (labels without node/role). */
  metrics(): Map<string, number> {
    const r = this.lab.execSync(this.host, ['curl', '-sS', '--max-time', '5', this.ready.metrics as string], { allowFail: true, timeoutMs: 8_000 })
    return parseMetrics(r.stdout)
  }

  async stop(graceMs = 5_000): Promise<number | null> {
    await this.proc.stop(graceMs)
    return this.proc.child.exitCode
  }

  kill9(): Promise<number | null> {
    this.proc.child.kill('SIGKILL')
    return this.proc.exited
  }
}

export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (m == null) continue
    const labels = (m[2] ?? '').replace(/,?(node|role)="[^"]*"/g, '').replace(/^\{,/, '{').replace(/\{\}/, '')
    out.set(`${m[1]}${labels}`, Number(m[3]))
  }
  return out
}

/** Starts an app in `host`'s namespace (listening on 0.0.0.0:listenPort, logs at warn) and waits for its ready line. */
export async function startApp(lab: Lab, host: string, kind: AppKind, init: AppInit): Promise<LabApp> {
  fs.mkdirSync(init.dataDir, { recursive: true })
  const port = init.listenPort ?? 4001
  const argv = [
    ...(kind === 'node' ? ['start'] : []),
    '--data-dir', init.dataDir,
    '--name', host,
    '--listen', `/ip4/0.0.0.0/tcp/${port}`,
    '--log-level', 'warn',
    ...(init.args ?? []),
  ]
  const proc = lab.spawnNode(host, APP_MAIN[kind], argv, { label: `${kind}@${host}` })
  const ready = await proc.waitFor((l) => l.event === 'ready', init.timeoutMs ?? 60_000, `${kind} ready line`)
  return new LabApp(lab, host, kind, proc, ready, init)
}

/** Polls `fn` every `everyMs` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function pollUntil<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

export function appsBuilt(): string | undefined {
  for (const f of [...Object.values(APP_MAIN), CLI_MAIN]) if (!fs.existsSync(f)) return `${path.relative(ROOT, f)} missing: build with \`npx nx run-many -t build\``
  return undefined
}
