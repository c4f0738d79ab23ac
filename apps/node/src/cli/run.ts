// `cpc`: the command line of a cpc-net node's gRPC API. runCli parses argv with commander, connects,
// runs one command and returns the exit code (0 ok, 1 call failed, 2 usage, 3 no connection); it
// never calls process.exit, so tests run it as a function.
import { Command, CommanderError, Option } from 'commander'
import { connect } from './client.js'
import * as commands from './commands.js'
import { DEFAULT_GRPC_ADDR, DEFAULT_TIMEOUT_S, EXIT_CALL_FAILED, EXIT_OK, EXIT_USAGE } from './constants.js'
import { CliError, UsageError } from './errors.js'

export interface CliIo {
  stdout: commands.Out
  stderr: commands.Out
  env: Record<string, string | undefined>
  /** Aborting it ends the run (Ctrl-C): a watch ends normally, a call in flight fails. */
  signal?: AbortSignal
}

interface GlobalOptions {
  addr: string
  token?: string
  json: boolean
  wide: boolean
  timeout: string
}

const VERSION = '0.1.0'

export async function runCli(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout
  const stderr = io.stderr ?? process.stderr
  const env = io.env ?? process.env

  const program = new Command('cpc')
  program
    .description("Talk to a cpc-net node's gRPC API (cpc-node).")
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) })
    .showHelpAfterError('(cpc --help for usage)')
    .addOption(new Option('--addr <host:port>', "the node's gRPC address").env('CPC_GRPC_ADDR').default(DEFAULT_GRPC_ADDR))
    .addOption(new Option('--token <token>', 'bearer token sent as `authorization: Bearer <token>`').env('CPC_TOKEN'))
    .option('--json', 'print JSON (one document; JSON lines for watch)', false)
    .option('--wide', 'print full peer ids', false)
    .option('--timeout <seconds>', 'bound on connecting and on each call', String(DEFAULT_TIMEOUT_S))

  // Commander reads .env() from process.env; with an injected env, apply it ourselves.
  const useEnv = (opts: GlobalOptions, cmd: Command): GlobalOptions => {
    const out = { ...opts }
    if (cmd.getOptionValueSourceWithGlobals('addr') === 'default' && env.CPC_GRPC_ADDR) out.addr = env.CPC_GRPC_ADDR
    if (cmd.getOptionValueSourceWithGlobals('token') === undefined && env.CPC_TOKEN) out.token = env.CPC_TOKEN
    return out
  }

  // Commander calls an action with (...arguments, options, command).
  const action =
    (fn: (ctx: commands.Ctx, args: string[], options: Record<string, unknown>) => Promise<void>) =>
    async (...params: unknown[]): Promise<void> => {
      const cmd = params.at(-1) as Command
      const opts = useEnv(cmd.optsWithGlobals<GlobalOptions>(), cmd)
      const timeoutS = Number(opts.timeout)
      if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError(`--timeout must be a positive number of seconds (got '${opts.timeout}')`)
      if (!/^[^\s:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$|^unix:/.test(opts.addr)) throw new UsageError(`--addr must be host:port (got '${opts.addr}')`)
      const timeoutMs = Math.round(timeoutS * 1000)
      const signal = io.signal !== undefined ? { signal: io.signal } : {}
      const conn = await connect({ addr: opts.addr, ...(opts.token !== undefined ? { token: opts.token } : {}), timeoutMs, ...signal })
      try {
        const ctx: commands.Ctx = { client: conn.client, addr: opts.addr, stdout, stderr, json: opts.json, wide: opts.wide, timeoutMs, ...signal }
        await fn(ctx, params.slice(0, -2) as string[], cmd.opts())
      } finally {
        conn.close()
      }
    }

  program.command('status').description("the node's identity, addresses, reachability and counts").action(action(async (ctx) => commands.status(ctx)))
  program
    .command('peers')
    .description('every peer the node knows, with state, link metrics and score')
    .option('--state <state>', 'only peers in this state: disconnected, connecting, connected, disconnecting')
    .action(action(async (ctx, _args, o) => commands.peers(ctx, o as { state?: string })))
  program.command('state <peer>').description("a peer's connection state (peer: full id, or the end of one as `cpc peers` shows it)").action(action(async (ctx, [peer]) => commands.state(ctx, peer!)))
  program.command('score <peer>').description("a peer's score terms").action(action(async (ctx, [peer]) => commands.score(ctx, peer!)))
  program
    .command('send <peer> <message>')
    .description('send a signed EVENT to one peer; message is text, or @file for a file\'s bytes (@@text for text starting with @)')
    .option('-p, --priority <level>', 'low, medium or high', 'medium')
    .option('--kind <kind>', 'wrap the payload as an Event of this kind')
    .option('--content-id <id>', "the Event's content id")
    .option('--ttl <ms>', 'how long it may wait in the outbox for an unreachable peer')
    .option('--no-progress', 'no progress bar for a large @file')
    .action(action(async (ctx, [peer, message], o) => commands.send(ctx, peer!, message!, o as unknown as commands.SendOptions)))
  program
    .command('broadcast <message>')
    .description('send a signed EVENT to a scope; message is text or @file')
    .option('-s, --scope <scope>', 'all, neighbors or group:NAME', 'all')
    .option('-p, --priority <level>', 'low, medium or high', 'medium')
    .option('--kind <kind>', 'wrap the payload as an Event of this kind')
    .option('--content-id <id>', "the Event's content id")
    .option('--no-progress', 'no progress bar for a large @file')
    .action(action(async (ctx, [message], o) => commands.broadcast(ctx, message!, o as unknown as commands.BroadcastOptions)))
  program
    .command('discover <target>')
    .description("find a peer's addresses (peer id), random-walk the DHT (random), or a group's members (group:NAME)")
    .option('--limit <n>', 'at most this many peers')
    .action(action(async (ctx, [target], o) => commands.discover(ctx, target!, o as { limit?: string })))
  program
    .command('watch')
    .description("stream the node's events until Ctrl-C (JSON lines with --json)")
    .option('--kinds <list>', 'comma-separated: message, peer_state, peer_discovered, score_changed, message_expired (default all)')
    .option('-n, --count <n>', 'stop after this many events')
    .option('--for <seconds>', 'stop after this long (with --count: fail if fewer arrived)')
    .action(action(async (ctx, _args, o) => commands.watch(ctx, o as commands.WatchOptions)))

  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true })
      return EXIT_USAGE
    }
    await program.parseAsync(argv, { from: 'user' })
    return EXIT_OK
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT_OK
      return EXIT_USAGE
    }
    if (err instanceof CliError) {
      stderr.write(`cpc: ${err.message}\n`)
      return err.exitCode
    }
    stderr.write(`cpc: ${err instanceof Error ? err.message : String(err)}\n`)
    return EXIT_CALL_FAILED
  }
}
