// Temporary data dirs, removed by cleanup().
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'

export class TempDirs {
  readonly #dirs: string[] = []

  async make(prefix = 'cpc-net-'): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix))
    this.#dirs.push(dir)
    return dir
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#dirs.splice(0).map(async (d) => rm(d, { recursive: true, force: true })))
  }
}
