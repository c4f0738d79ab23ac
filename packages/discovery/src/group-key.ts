// Group membership lives in DHT provider records under a CID derived from the group name.
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { GROUP_KEY_PREFIX, MAX_GROUP_NAME_BYTES } from './constants.js'
import { InvalidDiscoveryInputError } from './errors.js'

const encoder = new TextEncoder()

/** Throws InvalidDiscoveryInputError unless `name` is a usable group name. */
export function validateGroupName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidDiscoveryInputError('Group name is empty')
  if (encoder.encode(name).length > MAX_GROUP_NAME_BYTES) {
    throw new InvalidDiscoveryInputError(`Group name longer than ${MAX_GROUP_NAME_BYTES} bytes`)
  }
}

/** The provider-record key of a group: CIDv1(raw, sha256('cpc/group/' + name)). */
export async function groupKey(name: string): Promise<CID> {
  validateGroupName(name)
  const digest = await sha256.digest(encoder.encode(GROUP_KEY_PREFIX + name))
  return CID.createV1(raw.code, digest)
}
