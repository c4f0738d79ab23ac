// A minimal stand-in for @cpc/connection-manager's CpcChannel: owns a /cpc/1.0.0 handler, reads
// frames with readFrames and emits the same typed 'message' event; send() opens a stream per call.
import { TypedEventEmitter } from '@libp2p/interface'
import type { Libp2p, PeerId, Stream, AbortOptions } from '@libp2p/interface'
import { PROTOCOL_ID, readFrames } from '@cpc/protocol'
import type { ChannelMessageDetail, DiscoveryChannel } from '../../src/index.js'

export class TestChannel extends TypedEventEmitter<{ message: CustomEvent<ChannelMessageDetail> }> implements DiscoveryChannel {
  readonly errors: Error[] = []

  constructor(private readonly node: Libp2p) {
    super()
  }

  async start(): Promise<void> {
    await this.node.handle(
      PROTOCOL_ID,
      (stream: Stream, connection) => {
        void this.read(stream, connection.remotePeer)
      },
      { runOnLimitedConnection: true },
    )
  }

  async stop(): Promise<void> {
    await this.node.unhandle(PROTOCOL_ID)
  }

  private async read(stream: Stream, peer: PeerId): Promise<void> {
    try {
      for await (const message of readFrames(stream, { maxFrameBytes: 1024 * 1024 })) {
        this.safeDispatchEvent('message', { detail: { peer, message, bytes: message.payload.length, limited: false } })
      }
    } catch (err) {
      this.errors.push(err as Error)
      stream.abort(err as Error)
    }
  }

  async send(peer: PeerId, frames: Uint8Array | Uint8Array[], options: AbortOptions = {}): Promise<void> {
    const stream = await this.node.dialProtocol(peer, PROTOCOL_ID, { ...options, runOnLimitedConnection: true })
    for (const frame of Array.isArray(frames) ? frames : [frames]) {
      if (!stream.send(frame)) await new Promise((resolve) => stream.addEventListener('drain', resolve, { once: true }))
    }
    await stream.close(options)
  }
}
