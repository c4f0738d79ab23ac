// The configuration of a cpc-net process (cpc-node, cpc-bootstrap, cpc-relay): one options object per
// app with documented defaults, loaded from a JSON or YAML file, `CPC_*` environment variables and
// command-line flags (precedence flags > env > file > role defaults). The caller passes argv and env
// in: this library never reads process.env or process.argv itself. Every problem is a ConfigError
// naming the field (`config.grpc.bind: expected host:port (from --grpc)`).
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { fieldPath, networkConfigSchema, type NodeRole } from './config.js'
import { ConfigError, type ConfigIssue } from './errors.js'
import { isLoopbackHost, parseHostPort } from './server/address.js'

/** Default ports per role, so a node, a bootstrap and a relay can share a host with no flags. */
export const APP_DEFAULTS: Readonly<Record<NodeRole, { grpcBind: string; metricsBind: string; network: Record<string, unknown> }>> = {
  node: { grpcBind: '127.0.0.1:50051', metricsBind: '127.0.0.1:9464', network: {} },
  // A bootstrap peer is a DHT server many peers hit at once: high connection limits.
  bootstrap: {
    grpcBind: '127.0.0.1:50052',
    metricsBind: '127.0.0.1:9465',
    network: { connections: { low: 400, high: 800, maxConnections: 1200 } },
  },
  // A relay holds a connection per reservation plus the relayed ones.
  relay: {
    grpcBind: '127.0.0.1:50053',
    metricsBind: '127.0.0.1:9466',
    network: { connections: { low: 300, high: 600, maxConnections: 1000 } },
  },
}

const hostPort = z.string().superRefine((v, ctx) => {
  if (parseHostPort(v) === undefined) ctx.addIssue({ code: 'custom', message: 'expected host:port (e.g. 127.0.0.1:50051, [::1]:0)' })
})

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

function appSchema(role: NodeRole) {
  const d = APP_DEFAULTS[role]
  return z
    .strictObject({
      /** Name of this process in logs and the `node` label of every metric (default: the role). */
      name: z.string().min(1).max(64).default(role),
      /** Identity, peer store, outbox and state files. Omitted: in memory, new identity each start. */
      dataDir: z.string().min(1, { message: 'empty path' }).optional(),
      /** The NetworkHandler's config (see @cpc/network's README); `role` and `dataDir` are set by the app. */
      network: z.record(z.string(), z.unknown()).default({}),
      grpc: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** host:port; anything outside 127.0.0.0/8 and ::1 requires `token`. Port 0: OS-chosen. */
          bind: hostPort.default(d.grpcBind),
          /** Bearer token every call but grpc.health.v1.Health must carry (`authorization: Bearer <token>`). */
          token: z.string().min(16, { message: 'too short: at least 16 characters' }).optional(),
        })
        .prefault({}),
      metrics: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** host:port of /metrics, /healthz and /readyz. */
          bind: hostPort.default(d.metricsBind),
        })
        .prefault({}),
      log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
      tracing: z
        .strictObject({
          exporter: z.enum(['none', 'console', 'otlp']).default('none'),
          otlpEndpoint: z.url().optional(),
        })
        .prefault({}),
    })
    .superRefine((c, ctx) => {
      const bind = parseHostPort(c.grpc.bind)
      if (c.grpc.enabled && bind !== undefined && !isLoopbackHost(bind.host) && c.grpc.token === undefined) {
        ctx.addIssue({ code: 'custom', path: ['grpc', 'token'], message: `required when grpc.bind is not a loopback address (${c.grpc.bind})` })
      }
    })
}

export type AppConfig = z.output<ReturnType<typeof appSchema>> & {
  role: NodeRole
  /** The validated NetworkHandler config input (role and dataDir filled in). */
  networkConfig: Record<string, unknown>
}

type Kind = 'string' | 'list' | 'int' | 'bool'

/** One setting reachable from a flag and/or an env var. */
interface OptionSpec {
  flag: string
  env: string
  path: string
  kind: Kind
  help: string
  roles?: readonly NodeRole[]
}

/** Every flag and env var, by the config field it sets. `--set path=json` reaches any other field. */
export const APP_OPTIONS: readonly OptionSpec[] = [
  { flag: 'data-dir', env: 'CPC_DATA_DIR', path: 'dataDir', kind: 'string', help: 'data directory (identity, peer store, outbox)' },
  { flag: 'name', env: 'CPC_NAME', path: 'name', kind: 'string', help: 'process name (logs, `node` metric label)' },
  { flag: 'listen', env: 'CPC_LISTEN', path: 'network.listen', kind: 'list', help: 'libp2p listen multiaddrs (repeat, or comma-separated)' },
  { flag: 'announce', env: 'CPC_ANNOUNCE', path: 'network.announce', kind: 'list', help: 'multiaddrs to announce instead of the listen ones' },
  { flag: 'bootstrap', env: 'CPC_BOOTSTRAP', path: 'network.bootstrap', kind: 'list', help: 'bootstrap peers (/.../p2p/<id>)' },
  { flag: 'relay', env: 'CPC_RELAY', path: 'network.relay.listenVia', kind: 'list', help: 'relays to hold a reservation on', roles: ['node'] },
  { flag: 'group', env: 'CPC_GROUPS', path: 'network.groups', kind: 'list', help: 'groups to join at start', roles: ['node'] },
  { flag: 'address-scope', env: 'CPC_ADDRESS_SCOPE', path: 'network.addressScope', kind: 'string', help: "'private' (devnets, LANs) or 'public'" },
  { flag: 'dht-mode', env: 'CPC_DHT_MODE', path: 'network.dhtMode', kind: 'string', help: "'server', 'client' or 'auto'" },
  { flag: 'mdns', env: 'CPC_MDNS', path: 'network.mdns', kind: 'bool', help: 'mDNS discovery (multicasts on every interface)' },
  { flag: 'max-reservations', env: 'CPC_RELAY_MAX_RESERVATIONS', path: 'network.relay.server.maxReservations', kind: 'int', help: 'relay: reservations held at once', roles: ['relay'] },
  { flag: 'max-relay-bytes', env: 'CPC_RELAY_MAX_BYTES', path: 'network.relay.server.maxBytesPerConnection', kind: 'int', help: 'relay: bytes per relayed connection', roles: ['relay'] },
  { flag: 'max-relay-duration-ms', env: 'CPC_RELAY_MAX_DURATION_MS', path: 'network.relay.server.maxDurationMs', kind: 'int', help: 'relay: lifetime of a relayed connection', roles: ['relay'] },
  { flag: 'reservation-ttl-ms', env: 'CPC_RELAY_RESERVATION_TTL_MS', path: 'network.relay.server.reservationTtlMs', kind: 'int', help: 'relay: reservation lifetime', roles: ['relay'] },
  { flag: 'grpc', env: 'CPC_GRPC_BIND', path: 'grpc.bind', kind: 'string', help: 'gRPC host:port (non-loopback needs a token)' },
  { flag: 'grpc-token', env: 'CPC_GRPC_TOKEN', path: 'grpc.token', kind: 'string', help: 'gRPC bearer token (prefer the env var: flags show in ps)' },
  { flag: 'no-grpc', env: 'CPC_NO_GRPC', path: 'grpc.enabled', kind: 'bool', help: 'do not serve gRPC' },
  { flag: 'metrics', env: 'CPC_METRICS_BIND', path: 'metrics.bind', kind: 'string', help: '/metrics, /healthz, /readyz host:port' },
  { flag: 'log-level', env: 'CPC_LOG_LEVEL', path: 'log.level', kind: 'string', help: `log level (${LOG_LEVELS.join(', ')})` },
  { flag: 'tracing', env: 'CPC_TRACING', path: 'tracing.exporter', kind: 'string', help: "trace exporter: 'none', 'console' or 'otlp'" },
  { flag: 'otlp-endpoint', env: 'CPC_OTLP_ENDPOINT', path: 'tracing.otlpEndpoint', kind: 'string', help: 'OTLP/HTTP traces URL' },
]

export interface LoadAppConfigInput {
  role: NodeRole
  /** Arguments after the program (and subcommand) name. */
  argv: readonly string[]
  /** Usually process.env. */
  env: Readonly<Record<string, string | undefined>>
  /** Reads the config file (default: fs readFile as UTF-8); injectable for tests. */
  readTextFile?: (path: string) => Promise<string>
}

export interface LoadedAppConfig {
  config: AppConfig
  /** `--help` was given: print appUsage() and exit 0 instead of starting. */
  help: boolean
}

type Source = { path: string; from: string }

/** Loads and validates; throws ConfigError (code ERR_INVALID_CONFIG) naming each bad field. */
export async function loadAppConfig(input: LoadAppConfigInput): Promise<LoadedAppConfig> {
  const { role, env } = input
  const specs = APP_OPTIONS.filter((o) => o.roles === undefined || o.roles.includes(role))
  const parsed = parseFlags(specs, input.argv)
  const sources: Source[] = []

  let file: Record<string, unknown> = {}
  const configPath = parsed.configPath ?? nonEmpty(env.CPC_CONFIG)
  if (configPath !== undefined) {
    file = await readConfigFile(configPath, input.readTextFile ?? (async (p) => readFile(p, 'utf8')))
    sources.push({ path: '', from: configPath })
  }

  const merged: Record<string, unknown> = structuredClone(file)
  const issues: ConfigIssue[] = []
  for (const spec of specs) {
    const raw = nonEmpty(env[spec.env])
    if (raw === undefined) continue
    setFromText(merged, spec, raw, spec.env, issues)
    sources.push({ path: spec.path, from: spec.env })
  }
  for (const [spec, values] of parsed.flags) {
    if (spec.kind === 'list') setPath(merged, spec.path, values.flatMap(splitList))
    else setFromText(merged, spec, values.at(-1)!, `--${spec.flag}`, issues)
    sources.push({ path: spec.path, from: `--${spec.flag}` })
  }
  for (const assignment of parsed.sets) {
    const eq = assignment.indexOf('=')
    if (eq <= 0) {
      issues.push({ field: 'config', message: `--set ${assignment}: expected path=value` })
      continue
    }
    const path = assignment.slice(0, eq)
    const text = assignment.slice(eq + 1)
    let value: unknown = text
    try {
      value = JSON.parse(text)
    } catch {
      // Not JSON: the text itself (a string value).
    }
    setPath(merged, path, value)
    sources.push({ path, from: `--set ${path}` })
  }
  if (issues.length > 0) throw new ConfigError(issues)
  return { config: validate(role, merged, sources), help: parsed.help }
}

/** Validates a config object for `role` (no file, env or flags): for apps built in code and tests. */
export function parseAppConfig(role: NodeRole, input: unknown): AppConfig {
  return validate(role, input ?? {}, [])
}

function validate(role: NodeRole, input: unknown, sources: Source[]): AppConfig {
  const result = appSchema(role).safeParse(input)
  if (!result.success) throw new ConfigError(toIssues(result.error.issues, [], sources))
  const app = result.data
  const net = app.network
  if (net.role !== undefined && net.role !== role) {
    throw new ConfigError([{ field: 'config.network.role', message: `must be '${role}' for this app (or omitted)` }])
  }
  if (net.dataDir !== undefined) throw new ConfigError([{ field: 'config.network.dataDir', message: 'set the top-level dataDir (or --data-dir) instead' }])
  const networkConfig = deepMerge(structuredClone(APP_DEFAULTS[role].network), { ...net, role, ...(app.dataDir !== undefined ? { dataDir: app.dataDir } : {}) })
  const netResult = networkConfigSchema.safeParse(networkConfig)
  if (!netResult.success) throw new ConfigError(toIssues(netResult.error.issues, ['network'], sources))
  return { ...app, role, networkConfig }
}

/** The `--help` text: every flag with its env var. */
export function appUsage(program: string, role: NodeRole, synopsis = `${program} [options]`): string {
  const specs = APP_OPTIONS.filter((o) => o.roles === undefined || o.roles.includes(role))
  const rows = [
    ['--config FILE', 'CPC_CONFIG', 'JSON or YAML config file'],
    ...specs.map((s) => [`--${s.flag}${s.kind === 'bool' ? '' : ' VALUE'}`, s.env, s.help]),
    ['--set PATH=VALUE', '', 'any config field, VALUE as JSON (e.g. --set network.connections.high=200)'],
    ['--help', '', 'this text'],
  ]
  const w0 = Math.max(...rows.map((r) => r[0]!.length))
  const w1 = Math.max(...rows.map((r) => r[1]!.length))
  return [
    `usage: ${synopsis}`,
    '',
    'Precedence: flags > environment > config file > defaults.',
    '',
    ...rows.map(([a, b, c]) => `  ${a!.padEnd(w0)}  ${b!.padEnd(w1)}  ${c}`),
    '',
  ].join('\n')
}

interface ParsedFlags {
  configPath?: string
  help: boolean
  flags: Map<OptionSpec, string[]>
  sets: string[]
}

function parseFlags(specs: readonly OptionSpec[], argv: readonly string[]): ParsedFlags {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    config: { type: 'string' },
    help: { type: 'boolean' },
    set: { type: 'string', multiple: true },
  }
  for (const s of specs) options[s.flag] = s.kind === 'bool' ? { type: 'boolean' } : { type: 'string', multiple: true }
  let values: Record<string, unknown>
  try {
    ;({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }))
  } catch (err) {
    throw new ConfigError([{ field: 'argv', message: (err as Error).message.split('\n')[0]! }])
  }
  const flags = new Map<OptionSpec, string[]>()
  for (const s of specs) {
    const v = values[s.flag]
    if (v === undefined) continue
    // Booleans arrive as 'true'; setFromText turns `--no-grpc` into grpc.enabled = false.
    flags.set(s, s.kind === 'bool' ? [String(v)] : (v as string[]))
  }
  return {
    configPath: values.config as string | undefined,
    help: values.help === true,
    flags,
    sets: (values.set as string[] | undefined) ?? [],
  }
}

function setFromText(target: Record<string, unknown>, spec: OptionSpec, raw: string, from: string, issues: ConfigIssue[]): void {
  const field = fieldPath(spec.path.split('.'))
  switch (spec.kind) {
    case 'string':
      setPath(target, spec.path, raw)
      return
    case 'list':
      setPath(target, spec.path, splitList(raw))
      return
    case 'int': {
      if (!/^\d+$/.test(raw.trim())) {
        issues.push({ field, message: `expected a non-negative integer, got '${raw}' (from ${from})` })
        return
      }
      setPath(target, spec.path, Number(raw.trim()))
      return
    }
    case 'bool': {
      const v = raw.trim().toLowerCase()
      if (!['true', 'false', '1', '0', 'yes', 'no'].includes(v)) {
        issues.push({ field, message: `expected true or false, got '${raw}' (from ${from})` })
        return
      }
      const b = ['true', '1', 'yes'].includes(v)
      setPath(target, spec.path, spec.flag.startsWith('no-') ? !b : b)
    }
  }
}

async function readConfigFile(path: string, read: (path: string) => Promise<string>): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await read(path)
  } catch (err) {
    throw new ConfigError([{ field: 'config', message: `cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }])
  }
  let value: unknown
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    throw new ConfigError([{ field: 'config', message: `${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}` }])
  }
  if (value === null || value === undefined) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError([{ field: 'config', message: `${path} must hold an object` }])
  return value as Record<string, unknown>
}

function toIssues(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[], sources: Source[]): ConfigIssue[] {
  const out: ConfigIssue[] = []
  const add = (path: PropertyKey[], message: string): void => {
    const dotted = path.filter((k) => typeof k === 'string').join('.')
    const source = [...sources].reverse().find((s) => s.path === '' || dotted === s.path || dotted.startsWith(`${s.path}.`) || s.path.startsWith(`${dotted}.`))
    out.push({ field: fieldPath(path), message: source === undefined ? message : `${message} (from ${source.from})` })
  }
  for (const issue of issues) {
    const path = [...prefix, ...issue.path]
    if (issue.code === 'unrecognized_keys') for (const key of issue.keys) add([...path, key], 'unknown field')
    else add(path, issue.message)
  }
  return out
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v
}

function splitList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.')
  let node = target
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[keys.at(-1)!] = value
}

/** Objects merge key by key; anything else in `over` replaces what is in `base`. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(over)) {
    base[k] = isPlainObject(v) && isPlainObject(base[k]) ? deepMerge(base[k], v) : v
  }
  return base
}
