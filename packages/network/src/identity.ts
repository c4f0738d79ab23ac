// The node's Ed25519 identity, persisted as a protobuf-encoded private key in <dataDir>/identity.key
// (mode 0600), created on first start. Without a data dir a fresh key is generated every time.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { IDENTITY_FILE } from './constants.js'
import { DataDirError } from './errors.js'

export interface Identity {
  privateKey: Ed25519PrivateKey
  /** True when the key was generated now (first start, or no data dir). */
  created: boolean
}

export async function loadOrCreateIdentity(dataDir: string | undefined): Promise<Identity> {
  if (dataDir === undefined) return { privateKey: await generateKeyPair('Ed25519'), created: true }
  const file = path.join(dataDir, IDENTITY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DataDirError(file, 'cannot read the identity key', { cause: err })
  }
  if (bytes !== undefined) {
    let key
    try {
      key = privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new DataDirError(file, 'not a protobuf-encoded private key', { cause: err })
    }
    if (key.type !== 'Ed25519') throw new DataDirError(file, `identity key is ${key.type}, expected Ed25519`)
    return { privateKey: key, created: false }
  }
  const privateKey = await generateKeyPair('Ed25519')
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await writeFileAtomic(file, privateKeyToProtobuf(privateKey), 0o600)
  return { privateKey, created: true }
}

/** Write to a temp file then rename: a crash leaves either the old file or the new one, never half. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, data, { mode })
  await rename(tmp, file)
}
