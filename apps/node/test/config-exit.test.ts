// The cpc-node binary on bad config: exit code 2 and a stderr line naming the field and the source,
// before anything listens. Flags, env and file cases; a non-loopback gRPC bind without a token.
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { AppProcess, binary, withTimeout } from './helpers/app-process.js'

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; stdout: string[] }> {
  const p = new AppProcess(binary('node'), args, env)
  const exit = await withTimeout(p.exited, 20_000, 'exit')
  return { code: exit.code, stderr: p.stderr, stdout: p.lines }
}

describe('cpc-node config errors', () => {
  const dirs: string[] = []
  afterAll(async () => {
    await Promise.all(dirs.map(async (d) => rm(d, { recursive: true, force: true })))
  })

  it('flag: names the field and the flag', async () => {
    const r = await run(['start', '--grpc', 'nonsense'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('cpc-node: config.grpc.bind: expected host:port')
    expect(r.stderr).toContain('(from --grpc)')
    expect(r.stdout).toEqual([])
  })

  it('env: names the field and the variable', async () => {
    const r = await run(['start'], { CPC_LOG_LEVEL: 'loud' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('config.log.level')
    expect(r.stderr).toContain('(from CPC_LOG_LEVEL)')
  })

  it('file: names the nested field and the file; unknown fields too', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cpc-config-'))
    dirs.push(dir)
    const file = path.join(dir, 'node.json')
    await writeFile(file, JSON.stringify({ network: { connections: { low: 10, high: 5 } }, metrics: { port: 1 } }))
    const r = await run(['start', '--config', file])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('config.metrics.port: unknown field')
    await writeFile(file, JSON.stringify({ network: { connections: { low: 10, high: 5 } } }))
    const r2 = await run(['start', '--config', file])
    expect(r2.code).toBe(2)
    expect(r2.stderr).toContain(`config.network.connections.low: low must not exceed high (from ${file})`)
  })

  it('refuses a non-loopback gRPC bind without a token (exit 2), unknown flags and commands (exit 2)', async () => {
    const r = await run(['start', '--grpc', '0.0.0.0:0'])
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 2 })
    expect(r.stderr).toContain('config.grpc.token: required when grpc.bind is not a loopback address')
    const unknownFlag = await run(['start', '--frobnicate'])
    expect({ code: unknownFlag.code, stderr: unknownFlag.stderr }).toMatchObject({ code: 2 })
    const unknownCommand = await run(['launch'])
    expect({ code: unknownCommand.code, stderr: unknownCommand.stderr }).toMatchObject({ code: 2 })
  })

  it('--help prints the options and exits 0', async () => {
    const r = await run(['start', '--help'])
    expect(r.code).toBe(0)
  })
})
