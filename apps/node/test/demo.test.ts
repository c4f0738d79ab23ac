import { describe, expect, it } from '@jest/globals'
import { Priority } from '@cpc/protocol'
import { runDemo } from '../src/demo.js'

describe('two-node demo (npm start)', () => {
  it('exchanges signed messages at every priority, each verified by the receiver', async () => {
    const lines: string[] = []
    const result = await runDemo({ rounds: 2, print: (l) => lines.push(l) })
    expect(result.rejected).toEqual(['ERR_INVALID_SIGNATURE'])
    expect(result.verified).toHaveLength(12)
    for (const receiver of ['alice', 'bob']) {
      const got = result.verified.filter((v) => v.receiver === receiver)
      expect(got.map((v) => v.priority).sort()).toEqual([Priority.LOW, Priority.LOW, Priority.MEDIUM, Priority.MEDIUM, Priority.HIGH, Priority.HIGH].sort())
      // Each sender's nonces are unique.
      expect(new Set(got.map((v) => v.nonce)).size).toBe(6)
      expect(got.every((v) => v.text.includes(`→ ${receiver}`))).toBe(true)
    }
    expect(lines.some((l) => l.startsWith('bob rejected a message from') && l.endsWith('ERR_INVALID_SIGNATURE'))).toBe(true)
    expect(lines.at(-1)).toBe('done: 12 signed messages verified, 1 rejected (ERR_INVALID_SIGNATURE)')
  })
})
