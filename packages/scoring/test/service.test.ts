// ScoringService over a real nice-grpc server and client on 127.0.0.1.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals'
import { createChannel, createClient, createServer, ClientError, Status } from 'nice-grpc'
import type { Channel, Server } from 'nice-grpc'
import { scoringApi } from '@cpc/protocol'
import { PeerScorer, createScoringService, scoringErrorMiddleware } from '../src/index.js'
import { ManualClock } from './helpers.js'

describe('ScoringService over gRPC', () => {
  const clock = new ManualClock()
  const scorer = new PeerScorer({ clock: clock.now })
  let server: Server
  let channel: Channel
  let client: scoringApi.ScoringServiceClient

  beforeAll(async () => {
    scorer.connected('good')
    scorer.rtt('good', 10)
    scorer.penalize('bad', 'invalid-signature')
    scorer.connected('ok')
    clock.advance(60_000)
    server = createServer().use(scoringErrorMiddleware)
    server.add(scoringApi.ScoringServiceDefinition, createScoringService(scorer))
    const port = await server.listen('127.0.0.1:0')
    channel = createChannel(`127.0.0.1:${port}`)
    client = createClient(scoringApi.ScoringServiceDefinition, channel)
  })

  afterAll(async () => {
    channel?.close()
    await server?.shutdown()
  })

  it('GetPeerScore returns the library snapshot', async () => {
    const { score } = await client.getPeerScore({ peerId: 'good' })
    const local = scorer.score('good')
    expect(score).toEqual({
      peerId: 'good',
      uptime: local.uptime,
      responsiveness: local.responsiveness,
      stability: local.stability,
      penalty: local.penalty,
      composite: local.composite,
      updatedAtMs: BigInt(clock.t),
    })
  })

  it('GetPeerScore on an unknown peer is NOT_FOUND, on an empty id INVALID_ARGUMENT', async () => {
    await expect(client.getPeerScore({ peerId: 'nobody' })).rejects.toMatchObject({ code: Status.NOT_FOUND })
    const err = await client.getPeerScore({ peerId: '' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClientError)
    expect((err as ClientError).code).toBe(Status.INVALID_ARGUMENT)
  })

  it('ListScores is best first and honours limit', async () => {
    const { scores } = await client.listScores({})
    expect(scores.map((s) => s.peerId)).toEqual(scorer.list().map((s) => s.peerId))
    expect(scores.at(-1)?.peerId).toBe('bad')
    const limited = await client.listScores({ limit: 1 })
    expect(limited.scores.map((s) => s.peerId)).toEqual([scores[0].peerId])
  })
})
