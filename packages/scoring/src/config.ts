// ScoringInit + constants.ts defaults → a validated, fully resolved configuration.
import * as c from './constants.js'
import { InvalidScoringInputError } from './errors.js'
import { PENALTY_KINDS } from './types.js'
import type { PenaltyKind, ScoringInit, TermWeights } from './types.js'

export interface ScoringConfig {
  weights: TermWeights
  relayWeights: TermWeights
  decayHalfLifeMs: number
  penaltyHalfLifeMs: number
  penaltyScale: number
  maxPenalty: number
  penaltyWeights: Record<PenaltyKind, number>
  uptimePriorMs: number
  responsivenessPrior: number
  stabilityPrior: number
  targetRttMs: number
  rttSampleWeight: number
  requestWeight: number
  timeoutWeight: number
  dialSuccessWeight: number
  dialFailureWeight: number
  errorDisconnectWeight: number
  cleanDisconnectWeight: number
  stabilityCreditMs: number
  retentionMs: number
  retainPenaltyThreshold: number
  maxPeers: number
  changeEpsilon: number
  changeMinIntervalMs: number
  relayMaxPenalty: number
}

function check(name: string, value: number, min: number, allowMin: boolean): number {
  const ok = Number.isFinite(value) && (allowMin ? value >= min : value > min)
  if (!ok) {
    throw new InvalidScoringInputError(`${name} must be a finite number ${allowMin ? '>=' : '>'} ${min}, got ${value}`)
  }
  return value
}

function weights(name: string, w: TermWeights): TermWeights {
  for (const [k, v] of Object.entries(w)) check(`${name}.${k}`, v, 0, true)
  if (w.uptime + w.responsiveness + w.stability <= 0) {
    throw new InvalidScoringInputError(`${name} must not all be 0`)
  }
  return w
}

export function resolveConfig(init: ScoringInit = {}): ScoringConfig {
  const penaltyWeights = { ...c.DEFAULT_PENALTY_WEIGHTS, ...init.penaltyWeights }
  for (const kind of PENALTY_KINDS) check(`penaltyWeights.${kind}`, penaltyWeights[kind], 0, true)
  const positive = (name: keyof ScoringInit, def: number): number => check(name, (init[name] as number | undefined) ?? def, 0, false)
  const nonNegative = (name: keyof ScoringInit, def: number): number => check(name, (init[name] as number | undefined) ?? def, 0, true)
  const cfg: ScoringConfig = {
    weights: weights('weights', { ...c.DEFAULT_WEIGHTS, ...init.weights }),
    relayWeights: weights('relayWeights', { ...c.DEFAULT_RELAY_WEIGHTS, ...init.relayWeights }),
    decayHalfLifeMs: positive('decayHalfLifeMs', c.DEFAULT_DECAY_HALF_LIFE_MS),
    penaltyHalfLifeMs: positive('penaltyHalfLifeMs', c.DEFAULT_PENALTY_HALF_LIFE_MS),
    penaltyScale: positive('penaltyScale', c.DEFAULT_PENALTY_SCALE),
    maxPenalty: positive('maxPenalty', c.DEFAULT_MAX_PENALTY),
    penaltyWeights,
    uptimePriorMs: positive('uptimePriorMs', c.DEFAULT_UPTIME_PRIOR_MS),
    responsivenessPrior: positive('responsivenessPrior', c.DEFAULT_RESPONSIVENESS_PRIOR),
    stabilityPrior: positive('stabilityPrior', c.DEFAULT_STABILITY_PRIOR),
    targetRttMs: positive('targetRttMs', c.DEFAULT_TARGET_RTT_MS),
    rttSampleWeight: nonNegative('rttSampleWeight', c.DEFAULT_RTT_SAMPLE_WEIGHT),
    requestWeight: nonNegative('requestWeight', c.DEFAULT_REQUEST_WEIGHT),
    timeoutWeight: nonNegative('timeoutWeight', c.DEFAULT_TIMEOUT_WEIGHT),
    dialSuccessWeight: nonNegative('dialSuccessWeight', c.DEFAULT_DIAL_SUCCESS_WEIGHT),
    dialFailureWeight: nonNegative('dialFailureWeight', c.DEFAULT_DIAL_FAILURE_WEIGHT),
    errorDisconnectWeight: nonNegative('errorDisconnectWeight', c.DEFAULT_ERROR_DISCONNECT_WEIGHT),
    cleanDisconnectWeight: nonNegative('cleanDisconnectWeight', c.DEFAULT_CLEAN_DISCONNECT_WEIGHT),
    stabilityCreditMs: positive('stabilityCreditMs', c.DEFAULT_STABILITY_CREDIT_MS),
    retentionMs: nonNegative('retentionMs', c.DEFAULT_RETENTION_MS),
    retainPenaltyThreshold: positive('retainPenaltyThreshold', c.DEFAULT_RETAIN_PENALTY_THRESHOLD),
    maxPeers: positive('maxPeers', c.DEFAULT_MAX_PEERS),
    changeEpsilon: nonNegative('changeEpsilon', c.DEFAULT_CHANGE_EPSILON),
    changeMinIntervalMs: nonNegative('changeMinIntervalMs', c.DEFAULT_CHANGE_MIN_INTERVAL_MS),
    relayMaxPenalty: positive('relayMaxPenalty', c.DEFAULT_RELAY_MAX_PENALTY),
  }
  if (!Number.isInteger(cfg.maxPeers)) throw new InvalidScoringInputError(`maxPeers must be an integer, got ${cfg.maxPeers}`)
  return cfg
}
