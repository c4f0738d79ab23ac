// Two "peer" processes (sender, receiver) with a bare libp2p node and a raw TCP server each.
import { RoleProcess } from '../proc.js'

export interface Pair {
  sender: RoleProcess
  receiver: RoleProcess
  /** The receiver's libp2p address and TCP port. */
  addr: string
  port: number
  close(): Promise<void>
}

export async function startPair(suite: string, opts: { signal?: AbortSignal; profile?: boolean }): Promise<Pair> {
  const [sender, receiver] = await Promise.all([
    RoleProcess.spawn('peer', { name: `${suite}-sender`, signal: opts.signal, profile: opts.profile }),
    RoleProcess.spawn('peer', { name: `${suite}-receiver`, signal: opts.signal, profile: opts.profile }),
  ])
  try {
    await sender.call('start')
    const { addrs } = await receiver.call<{ addrs: string[] }>('start')
    const { port } = await receiver.call<{ port: number }>('tcp-listen')
    return {
      sender,
      receiver,
      addr: addrs[0],
      port,
      close: async () => {
        await Promise.all([sender.kill(), receiver.kill()])
      },
    }
  } catch (err) {
    await Promise.all([sender.kill(), receiver.kill()])
    throw err
  }
}
