// The gRPC ScoringService: thin handlers over PeerScorer. Library errors become gRPC Status codes
// in scoringErrorMiddleware (grpc-errors.ts), not here.
import { common } from '@cpc/protocol'
import type { scoringApi } from '@cpc/protocol'
import type { PeerScorer } from './peer-scorer.js'
import type { PeerScoreSnapshot } from './types.js'
import { InvalidScoringInputError } from './errors.js'

/** A snapshot as the wire PeerScore (updatedAtMs as uint64). */
export function toPeerScoreMessage(s: PeerScoreSnapshot): common.PeerScore {
  return common.PeerScore.create({
    peerId: s.peerId,
    uptime: s.uptime,
    responsiveness: s.responsiveness,
    stability: s.stability,
    penalty: s.penalty,
    composite: s.composite,
    updatedAtMs: BigInt(Math.max(0, Math.floor(s.updatedAtMs))),
  })
}

export function createScoringService(scorer: PeerScorer): scoringApi.ScoringServiceImplementation {
  return {
    async getPeerScore(request) {
      if (request.peerId === '') throw new InvalidScoringInputError('peer_id is required')
      return { score: toPeerScoreMessage(scorer.require(request.peerId)) }
    },
    async listScores(request) {
      const all = scorer.list()
      const scores = request.limit > 0 ? all.slice(0, request.limit) : all
      return { scores: scores.map(toPeerScoreMessage) }
    },
  }
}
