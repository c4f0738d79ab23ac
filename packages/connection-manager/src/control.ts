// CONTROL messages on /cpc/1.0.0, the connection manager's message type: ours are signed with the
// node's key; inbound ones are verified (origin = the sending peer) and decoded before anything
// acts on them, then handed to the goodbye or link handler.
import { Control, CpcMessage, GoodbyeReason, MessageType, MessageVerifier, NonceGenerator, Priority, encodeFrame, type Goodbye, type MessageSigner } from '@cpc/protocol'
import type { PeerId } from '@libp2p/interface'
import type { ChannelMessageDetail, CpcChannel } from './channel.js'
import type { Clock } from './clock.js'
import type { Logger } from './logger.js'
import type { ConnectionManagerMetrics } from './metrics.js'

export interface ControlComponents {
  channel: Pick<CpcChannel, 'send'>
  signer: Pick<MessageSigner, 'sign'>
  verifier?: Pick<MessageVerifier, 'verify'>
  nonces?: Pick<NonceGenerator, 'next'>
  clock: Clock
  metrics: ConnectionManagerMetrics
  logger: Logger
}

/** Where verified inbound CONTROL messages go. */
export interface ControlHandlers {
  goodbye(peer: PeerId, goodbye: Goodbye): void
  /** Ping and Pong, for the link monitor. */
  link(peer: PeerId, control: Control): void
}

export class ControlPlane {
  readonly #c: ControlComponents
  readonly #handlers: ControlHandlers
  readonly #verifier: Pick<MessageVerifier, 'verify'>
  readonly #nonces: Pick<NonceGenerator, 'next'>

  constructor(components: ControlComponents, handlers: ControlHandlers) {
    this.#c = components
    this.#handlers = handlers
    this.#verifier = components.verifier ?? new MessageVerifier()
    this.#nonces = components.nonces ?? new NonceGenerator({ clock: () => components.clock.now() })
  }

  /** Signs `control` as a HIGH-priority CONTROL message addressed to `peer` and sends it. */
  async send(peer: PeerId, control: Control, options: { signal?: AbortSignal } = {}): Promise<void> {
    const message = this.#c.signer.sign(
      CpcMessage.fromPartial({
        nonce: this.#nonces.next(),
        priority: Priority.HIGH,
        messageType: MessageType.CONTROL,
        payload: Control.encode(control).finish(),
        timestampMs: BigInt(this.#c.clock.now()),
        recipient: peer.toMultihash().bytes,
      }),
    )
    await this.#c.channel.send(peer, encodeFrame(message), options)
  }

  /** The channel's CONTROL handler (addMessageHandler). */
  readonly onMessage = (detail: ChannelMessageDetail): void => {
    const { peer, message } = detail
    if (message.messageType !== MessageType.CONTROL) return
    let control: Control
    try {
      this.#verifier.verify(message, peer.toMultihash().bytes)
      control = Control.decode(message.payload)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      this.#c.metrics.controlRejected.inc({ reason: typeof code === 'string' ? code : 'ERR_MALFORMED' })
      this.#c.logger.warn({ peer: peer.toString(), err }, 'CONTROL message rejected')
      return
    }
    switch (control.kind?.$case) {
      case 'goodbye':
        this.#c.metrics.goodbyes.inc({ direction: 'in', reason: GoodbyeReason[control.kind.value.reason] ?? 'UNKNOWN' })
        this.#handlers.goodbye(peer, control.kind.value)
        break
      case 'ping':
      case 'pong':
        this.#handlers.link(peer, control)
        break
      default:
        this.#c.logger.debug({ peer: peer.toString(), kind: control.kind?.$case }, 'CONTROL message ignored')
    }
  }
}
