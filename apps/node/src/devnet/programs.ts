// How the devnet starts each program: entry files of the built apps and their flags
// (cpc-node/cpc-bootstrap/cpc-relay share one option set, see apps/node/README.md). Every process
// binds 127.0.0.1 with OS-chosen ports for libp2p, gRPC and /metrics, and prints its ready line.
import path from 'node:path'

export interface Entries {
  node: string
  bootstrap: string
  relay: string
}

/** The built entries, from the repository root. */
export function entries(root: string): Entries {
  return {
    node: path.join(root, 'apps/node/dist/main.js'),
    bootstrap: path.join(root, 'apps/bootstrap/dist/main.js'),
    relay: path.join(root, 'apps/relay/dist/main.js'),
  }
}

export interface ProgramArgs {
  name: string
  dataDir: string
  logLevel: string
  bootstrap?: string[]
  /** Listen only through this relay: no direct TCP listener, a reservation on the relay. */
  relayOnly?: string
  groups?: string[]
}

function common(a: ProgramArgs): string[] {
  const args = ['--name', a.name, '--data-dir', a.dataDir, '--address-scope', 'private', '--dht-mode', 'server', '--grpc', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--log-level', a.logLevel]
  for (const b of a.bootstrap ?? []) args.push('--bootstrap', b)
  return args
}

export function bootstrapArgs(a: ProgramArgs): string[] {
  return ['start', ...common(a), '--listen', '/ip4/127.0.0.1/tcp/0']
}

export function relayArgs(a: ProgramArgs): string[] {
  return ['start', ...common(a), '--listen', '/ip4/127.0.0.1/tcp/0']
}

export function nodeArgs(a: ProgramArgs): string[] {
  const args = ['start', ...common(a)]
  if (a.relayOnly !== undefined) args.push('--set', 'network.listen=[]', '--relay', a.relayOnly)
  else args.push('--listen', '/ip4/127.0.0.1/tcp/0')
  for (const g of a.groups ?? []) args.push('--group', g)
  return args
}

/** The first direct TCP multiaddr (with /p2p/) of a ready line, for other processes' --bootstrap/--relay. */
export function dialable(listen: string[], peerId: string): string {
  const addr = listen.find((a) => a.includes('/tcp/') && !a.includes('/p2p-circuit'))
  if (addr === undefined) throw new Error(`no direct TCP address announced by ${peerId}`)
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${peerId}`
}
