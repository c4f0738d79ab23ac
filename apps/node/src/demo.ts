// The two-node demo behind `npm start` (until the devnet replaces it): two real libp2p nodes on
// 127.0.0.1 (TCP + Noise + yamux) exchange signed /cpc/1.0.0 messages at each priority, and each
// prints what it verified.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { PeerId, Stream } from '@libp2p/interface'
import {
  CpcMessage,
  Event,
  MessageSigner,
  MessageType,
  MessageVerifier,
  NonceGenerator,
  PROTOCOL_ID,
  Priority,
  ProtocolError,
  encodeFrame,
  readFrames,
} from '@cpc/protocol'

export interface VerifiedMessage {
  receiver: string
  from: string
  priority: Priority
  text: string
  nonce: bigint
}

export interface DemoOptions {
  /** Messages each node sends to the other per priority (default 1). */
  rounds?: number
  /** Called with each line the demo prints. */
  print?: (line: string) => void
  signal?: AbortSignal
}

export interface DemoResult {
  verified: VerifiedMessage[]
  /** Error codes of rejected messages: exactly one, the tampered message the demo sends on purpose. */
  rejected: string[]
}

interface DemoNode {
  name: string
  node: Libp2p
  signer: MessageSigner
  nonces: NonceGenerator
}

const short = (id: string) => `${id.slice(0, 8)}…${id.slice(-4)}`

async function write(stream: Stream, frame: Uint8Array): Promise<void> {
  // Backpressure: wait for 'drain' when the stream's buffer is full (not onDrain(): LIBP2P_NOTES.md).
  if (!stream.send(frame)) await new Promise((resolve) => stream.addEventListener('drain', resolve, { once: true }))
}

async function startNode(name: string, onMessage: (from: PeerId, msg: CpcMessage) => void, onReject: (err: unknown) => void): Promise<DemoNode> {
  const key = await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    privateKey: key,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  })
  await node.handle(
    PROTOCOL_ID,
    async (stream: Stream, connection) => {
      try {
        for await (const msg of readFrames(stream)) onMessage(connection.remotePeer, msg)
      } catch (err) {
        onReject(err)
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      }
    },
    { runOnLimitedConnection: true },
  )
  return { name, node, signer: new MessageSigner(key), nonces: new NonceGenerator() }
}

/** Runs the demo to completion and stops both nodes. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const rounds = options.rounds ?? 1
  const print = options.print ?? (() => {})
  const verifier = new MessageVerifier()
  const verified: VerifiedMessage[] = []
  const rejected: string[] = []
  // Every honest message at each priority both ways, plus one tampered message from alice to bob.
  const expected = rounds * 3 * 2 + 1
  let done!: () => void
  const allVerified = new Promise<void>((resolve) => (done = resolve))

  const receive = (receiver: string) => (from: PeerId, msg: CpcMessage) => {
    try {
      verifier.verify(msg, from.toMultihash().bytes)
      const event = Event.decode(msg.payload)
      const v: VerifiedMessage = { receiver, from: from.toString(), priority: msg.priority, text: new TextDecoder().decode(event.body), nonce: msg.nonce }
      verified.push(v)
      print(`${receiver} verified ${Priority[msg.priority].padEnd(6)} EVENT from ${short(v.from)}  nonce=${msg.nonce}  "${v.text}"`)
    } catch (err) {
      const code = err instanceof ProtocolError ? err.code : String(err)
      rejected.push(code)
      print(`${receiver} rejected a message from ${short(from.toString())}: ${code}`)
    }
    if (verified.length + rejected.length >= expected) done()
  }

  const nodes: DemoNode[] = []
  try {
    const onStreamError = (err: unknown) => rejected.push(err instanceof ProtocolError ? err.code : String(err))
    nodes.push(await startNode('alice', receive('alice'), onStreamError))
    nodes.push(await startNode('bob', receive('bob'), onStreamError))
    for (const n of nodes) print(`${n.name.padEnd(5)} ${n.node.peerId.toString()} listening on ${n.node.getMultiaddrs().map(String).join(', ')}`)

    const send = async (from: DemoNode, to: DemoNode) => {
      const stream = await from.node.dialProtocol(to.node.getMultiaddrs(), PROTOCOL_ID, { signal: options.signal })
      for (let r = 0; r < rounds; r++) {
        for (const priority of [Priority.LOW, Priority.MEDIUM, Priority.HIGH]) {
          const text = `${from.name} → ${to.name}: ${Priority[priority].toLowerCase()} priority post #${r + 1}`
          const event = Event.fromPartial({ contentId: `demo-${from.name}-${r}-${priority}`, author: from.node.peerId.toMultihash().bytes, kind: 'post', body: new TextEncoder().encode(text), createdAtMs: BigInt(Date.now()) })
          const msg = from.signer.sign(
            CpcMessage.fromPartial({ nonce: from.nonces.next(), priority, messageType: MessageType.EVENT, payload: Event.encode(event).finish(), timestampMs: BigInt(Date.now()), recipient: to.node.peerId.toMultihash().bytes }),
          )
          await write(stream, encodeFrame(msg))
        }
      }
      if (from.name === 'alice') {
        // One tampered message: the body changed after signing. The receiver must reject it.
        const msg = from.signer.sign(CpcMessage.fromPartial({ nonce: from.nonces.next(), priority: Priority.HIGH, messageType: MessageType.EVENT, payload: new TextEncoder().encode('original'), timestampMs: BigInt(Date.now()) }))
        await write(stream, encodeFrame({ ...msg, payload: new TextEncoder().encode('tampered') }))
      }
      await stream.close({ signal: options.signal })
    }
    await Promise.all([send(nodes[0], nodes[1]), send(nodes[1], nodes[0])])
    await Promise.race([
      allVerified,
      new Promise((_, reject) => {
        const t = setTimeout(() => reject(new Error(`demo: only ${verified.length} of ${expected} messages arrived in 10 s`)), 10_000)
        allVerified.finally(() => clearTimeout(t))
      }),
    ])
    print(`done: ${verified.length} signed messages verified, ${rejected.length} rejected (${rejected.join(', ')})`)
    return { verified, rejected }
  } finally {
    await Promise.all(nodes.map((n) => n.node.stop()))
  }
}


