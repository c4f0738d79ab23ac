// The UDP seam: LinkMonitor talks to this narrow interface, never to node:dgram directly, so tests
// can drop a known fraction of datagrams (or run without any socket at all).
import dgram from 'node:dgram'
import { isIPv6 } from 'node:net'

export interface RemoteInfo {
  address: string
  port: number
}

export interface ProbeSocket {
  /** The bound local port. */
  readonly port: number
  send(buf: Uint8Array, port: number, host: string): void
  close(): Promise<void>
}

export interface UdpSocketOptions {
  host: string
  port: number
  onMessage(buf: Uint8Array, from: RemoteInfo): void
  onError?(err: Error): void
}

export type UdpSocketFactory = (options: UdpSocketOptions) => Promise<ProbeSocket>

/** The real thing: a node:dgram socket bound to `host:port` (port 0 = ephemeral). */
export const nodeUdpSocketFactory: UdpSocketFactory = async (options) => {
  const socket = dgram.createSocket({ type: isIPv6(options.host) ? 'udp6' : 'udp4' })
  socket.on('message', (msg, rinfo) => options.onMessage(msg, { address: rinfo.address, port: rinfo.port }))
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(options.port, options.host, () => {
      socket.off('error', reject)
      resolve()
    })
  })
  // After bind, errors (e.g. ICMP unreachable surfacing as ECONNREFUSED) are reported, never thrown.
  socket.on('error', (err) => options.onError?.(err))
  socket.unref()
  let closed = false
  return {
    port: socket.address().port,
    send(buf, port, host) {
      if (closed) return
      socket.send(buf, port, host, (err) => {
        if (err != null) options.onError?.(err)
      })
    },
    close: async () => {
      if (closed) return
      closed = true
      await new Promise<void>((resolve) => socket.close(() => resolve()))
    },
  }
}
