// The progress bar of large sends. SendMessage is one unary gRPC call, so the CLI cannot see the
// node's progress through it: the bar measures what the CLI itself does (reading the file), then an
// elapsed-time spinner runs while the call is in flight (until the node's router has accepted the
// message: sent, relayed or queued; delivery is not acknowledged by the API).
import { open } from 'node:fs/promises'
import { bytes } from './format.js'

export interface ProgressSink {
  write(text: string): unknown
}

const WIDTH = 30
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export class Progress {
  readonly #out: ProgressSink
  readonly #label: string
  #last = 0
  #spin: ReturnType<typeof setInterval> | undefined

  constructor(out: ProgressSink, label: string) {
    this.#out = out
    this.#label = label
  }

  /** Redraws the bar (at most every 50 ms, and always at 100 %). */
  update(done: number, total: number): void {
    const now = Date.now()
    if (done < total && now - this.#last < 50) return
    this.#last = now
    const ratio = total === 0 ? 1 : Math.min(1, done / total)
    const full = Math.round(ratio * WIDTH)
    this.#out.write(`\r\x1b[2K${this.#label} [${'█'.repeat(full)}${'░'.repeat(WIDTH - full)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${bytes(done)}/${bytes(total)}`)
  }

  /** Replaces the bar by a spinner with the elapsed time until stop(). */
  waiting(label: string): void {
    const started = Date.now()
    let i = 0
    const draw = (): void => {
      this.#out.write(`\r\x1b[2K${SPINNER[i++ % SPINNER.length]} ${label} ${((Date.now() - started) / 1000).toFixed(1)} s`)
    }
    draw()
    this.#spin = setInterval(draw, 100)
  }

  stop(): void {
    if (this.#spin !== undefined) clearInterval(this.#spin)
    this.#spin = undefined
    this.#out.write('\r\x1b[2K')
  }
}

/** Reads a whole file in 1 MiB steps, reporting each step. */
export async function readWithProgress(path: string, onProgress: (done: number, total: number) => void): Promise<Uint8Array> {
  const fh = await open(path, 'r')
  try {
    const { size } = await fh.stat()
    const out = new Uint8Array(size)
    let done = 0
    onProgress(0, size)
    while (done < size) {
      const { bytesRead } = await fh.read(out, done, Math.min(1024 * 1024, size - done), done)
      if (bytesRead === 0) break
      done += bytesRead
      onProgress(done, size)
    }
    return done === size ? out : out.subarray(0, done)
  } finally {
    await fh.close()
  }
}
