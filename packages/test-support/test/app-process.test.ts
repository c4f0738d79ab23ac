import { describe, expect, it } from '@jest/globals'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { appsDir, sample, withTimeout } from '../src/app-process.js'

describe('app-process helpers', () => {
  it('points appsDir at the repository apps folder', () => {
    expect(existsSync(path.join(appsDir, 'node', 'package.json'))).toBe(true)
  })

  it('sums metric samples matching every label', () => {
    const text = ['# HELP m x', 'm{a="1",b="2"} 3', 'm{a="1",b="3"} 4', 'm_total 9', 'm{a="2"} 5'].join('\n')
    expect(sample(text, 'm', { a: '1' })).toBe(7)
    expect(sample(text, 'm')).toBe(12)
    expect(sample(text, 'absent')).toBeUndefined()
  })

  it('withTimeout rejects naming what it waited for', async () => {
    await expect(withTimeout(new Promise(() => {}), 20, 'nothing')).rejects.toThrow('timed out after 20 ms waiting for nothing')
  })
})
