import { describe, it, expect } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { buildVectors, describeFrames, type Vector } from './vectors/build-vectors.js'

const file = path.join(import.meta.dirname, 'vectors', 'golden.json')

describe('golden vectors', () => {
  it('the committed golden.json matches this implementation', async () => {
    const built = await buildVectors()
    if (process.env.UPDATE_GOLDEN === '1') {
      fs.writeFileSync(file, JSON.stringify({ version: 1, protocol: '/cpc/1.0.0', vectors: built }, null, 2) + '\n')
    }
    const committed = JSON.parse(fs.readFileSync(file, 'utf8')) as { vectors: Vector[] }
    expect(built).toEqual(committed.vectors)
  })

  it('every committed frame decodes, verifies and opens as recorded', () => {
    const committed = JSON.parse(fs.readFileSync(file, 'utf8')) as { vectors: Vector[] }
    expect(committed.vectors.length).toBeGreaterThanOrEqual(10)
    for (const v of committed.vectors) {
      const again = describeFrames(v.name, v.description, v.private_key_seed, new Uint8Array(Buffer.from(v.frames, 'hex')), v.max_frame_bytes)
      expect(again).toEqual(v)
    }
  })
})
