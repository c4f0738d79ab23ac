// The Merkle tree a batch of messages is signed under (ADR docs/design/batch-signatures.md).
// Leaves are message leaf hashes, already domain-separated ("cpc/1.0.0/leaf"); an internal node is
// SHA-256(0x01 || left || right) as in RFC 6962. Levels are built left to right by pairs; a level
// with an odd number of nodes promotes its last node unchanged to the next level, so no hash is ever
// duplicated (duplicating it, as Bitcoin does, lets two different leaf lists share a root).
import { hash } from 'node:crypto'
import { DEFAULT_MAX_VERIFY_BATCH, HASH_BYTES, MERKLE_NODE_PREFIX } from './constants.js'
import { InvalidArgumentError, InvalidBatchProofError } from './errors.js'

function node(left: Uint8Array, right: Uint8Array): Uint8Array {
  // One-shot over 65 bytes: cheaper than feeding a Hash object three times.
  const bytes = Buffer.allocUnsafe(1 + left.length + right.length)
  bytes[0] = MERKLE_NODE_PREFIX
  bytes.set(left, 1)
  bytes.set(right, 1 + left.length)
  return hash('sha256', bytes, 'buffer')
}

/** Sibling hashes a proof of leaf `index` among `count` leaves holds (levels with a promoted node add none). */
export function batchPathLength(index: number, count: number): number {
  let n = 0
  for (let i = index, width = count; width > 1; i >>>= 1, width = (width + 1) >>> 1) {
    if ((i ^ 1) < width) n++
  }
  return n
}

/** The root of the leaves and, for each leaf, its path (sibling hashes from the bottom up). */
export function merkleTree(leaves: readonly Uint8Array[]): { root: Uint8Array; paths: Uint8Array[][] } {
  if (leaves.length === 0) throw new InvalidArgumentError('A Merkle tree needs at least one leaf')
  const paths: Uint8Array[][] = leaves.map(() => [])
  // Which leaves sit under each node of the current level, to hand them the sibling's hash.
  let level: Uint8Array[] = [...leaves]
  let under: number[][] = leaves.map((_, i) => [i])
  while (level.length > 1) {
    const next: Uint8Array[] = []
    const nextUnder: number[][] = []
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) {
        next.push(level[i])
        nextUnder.push(under[i])
        continue
      }
      for (const leaf of under[i]) paths[leaf].push(level[i + 1])
      for (const leaf of under[i + 1]) paths[leaf].push(level[i])
      next.push(node(level[i], level[i + 1]))
      nextUnder.push([...under[i], ...under[i + 1]])
    }
    level = next
    under = nextUnder
  }
  return { root: level[0], paths }
}

/**
 * Folds a leaf and its path up to the root. Throws InvalidBatchProofError unless 2 <= count <=
 * maxCount, index < count, and the path has exactly batchPathLength(index, count) 32-byte hashes.
 */
export function foldBatchPath(leaf: Uint8Array, index: number, count: number, path: readonly Uint8Array[], maxCount = DEFAULT_MAX_VERIFY_BATCH): Uint8Array {
  if (count < 2 || count > maxCount) throw new InvalidBatchProofError(`Batch count ${count} outside 2..${maxCount}`)
  if (index >= count) throw new InvalidBatchProofError(`Batch index ${index} >= count ${count}`)
  const expected = batchPathLength(index, count)
  if (path.length !== expected) throw new InvalidBatchProofError(`Batch path holds ${path.length} hashes, expected ${expected}`)
  let hash = leaf
  let p = 0
  for (let i = index, width = count; width > 1; i >>>= 1, width = (width + 1) >>> 1) {
    if ((i ^ 1) >= width) continue // promoted
    const sibling = path[p++]
    if (sibling.length !== HASH_BYTES) throw new InvalidBatchProofError(`Batch path element of ${sibling.length} bytes`)
    hash = (i & 1) === 1 ? node(sibling, hash) : node(hash, sibling)
  }
  return hash
}
