// host:port strings of the gRPC and metrics binds, and what counts as loopback (127.0.0.0/8, ::1,
// localhost): a bind outside those is reachable from other hosts and needs the gRPC token.
import { isIP } from 'node:net'

export interface HostPort {
  host: string
  port: number
}

/** `127.0.0.1:50051`, `[::1]:0`, `localhost:9464`, `0.0.0.0:50051` → { host, port }; undefined if malformed. */
export function parseHostPort(value: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value.trim())
  if (m === null) return undefined
  const host = m[1] ?? m[2]!
  const port = Number(m[3])
  if (port > 65535) return undefined
  if (m[1] !== undefined && isIP(host) !== 6) return undefined
  return { host, port }
}

/** `host:port`, bracketing IPv6 hosts. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

/** True for 127.0.0.0/8, ::1 (and ::ffff:127.x) and `localhost`; false for 0.0.0.0, :: and everything else. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase()
  if (h === 'localhost') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || (h.startsWith('::ffff:') && h.slice(7).startsWith('127.'))
  return false
}
