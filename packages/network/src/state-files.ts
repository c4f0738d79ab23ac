// Small JSON state files in the data dir: the NonceGenerator's last nonce (so nonces stay unique
// across a restart even if the clock stepped back) and the PeerScorer's state.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { NONCE_FILE, SCORES_FILE } from './constants.js'
import { DataDirError } from './errors.js'
import { writeFileAtomic } from './identity.js'

async function readJson(file: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new DataDirError(file, 'cannot read', { cause: err })
  }
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new DataDirError(file, 'not JSON', { cause: err })
  }
}

export async function loadLastNonce(dataDir: string): Promise<bigint | undefined> {
  const file = path.join(dataDir, NONCE_FILE)
  const value = await readJson(file)
  if (value === undefined) return undefined
  const last = (value as { lastNonce?: unknown }).lastNonce
  if (typeof last !== 'string' || !/^\d+$/.test(last)) throw new DataDirError(file, 'lastNonce is not a decimal string')
  return BigInt(last)
}

export async function saveLastNonce(dataDir: string, lastNonce: bigint): Promise<void> {
  await writeFileAtomic(path.join(dataDir, NONCE_FILE), JSON.stringify({ version: 1, lastNonce: lastNonce.toString() }))
}

/** The scorer's exported state, or undefined when none was saved. Validation is the scorer's. */
export async function loadScores(dataDir: string): Promise<unknown> {
  return readJson(path.join(dataDir, SCORES_FILE))
}

export async function saveScores(dataDir: string, state: unknown): Promise<void> {
  await writeFileAtomic(path.join(dataDir, SCORES_FILE), JSON.stringify(state))
}
