// The Ed25519 identity in <dataDir>/identity.key: created once (mode 0600), reloaded after.
import { stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from '../src/identity.js'
import { DataDirError } from '../src/errors.js'
import { TempDirs } from './helpers/tmp.js'

const dirs = new TempDirs()
afterAll(async () => dirs.cleanup())

describe('loadOrCreateIdentity', () => {
  it('creates the key on first start and loads the same one afterwards', async () => {
    const dir = await dirs.make()
    const first = await loadOrCreateIdentity(dir)
    expect(first.created).toBe(true)
    expect(first.privateKey.type).toBe('Ed25519')
    const mode = (await stat(path.join(dir, 'identity.key'))).mode & 0o777
    expect(mode).toBe(0o600)
    const second = await loadOrCreateIdentity(dir)
    expect(second.created).toBe(false)
    expect(peerIdFromPrivateKey(second.privateKey).toString()).toBe(peerIdFromPrivateKey(first.privateKey).toString())
  })

  it('generates a fresh key without a data dir', async () => {
    const a = await loadOrCreateIdentity(undefined)
    const b = await loadOrCreateIdentity(undefined)
    expect(peerIdFromPrivateKey(a.privateKey).equals(peerIdFromPrivateKey(b.privateKey))).toBe(false)
  })

  it('refuses a corrupt key file with a typed error instead of replacing the identity', async () => {
    const dir = await dirs.make()
    await writeFile(path.join(dir, 'identity.key'), 'not a key')
    await expect(loadOrCreateIdentity(dir)).rejects.toBeInstanceOf(DataDirError)
    await expect(loadOrCreateIdentity(dir)).rejects.toMatchObject({ code: 'ERR_DATA_DIR' })
  })
})
