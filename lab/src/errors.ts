/** A system command the lab ran failed (ip, iptables, tc). */
export class LabCommandError extends Error {
  readonly code = 'ERR_LAB_COMMAND'
  constructor(
    readonly argv: string[],
    readonly status: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} failed (${status}): ${stderr.trim()}`)
    this.name = 'LabCommandError'
  }
}

/** The topology description is inconsistent (unknown segment, too many members on a p2p link...). */
export class LabSpecError extends Error {
  readonly code = 'ERR_LAB_SPEC'
  constructor(message: string) {
    super(message)
    this.name = 'LabSpecError'
  }
}

/** A bounded wait ran out. */
export class LabTimeoutError extends Error {
  readonly code = 'ERR_LAB_TIMEOUT'
  constructor(message: string) {
    super(message)
    this.name = 'LabTimeoutError'
  }
}

/** The lab cannot run here (not Linux, not root, missing `ip`/`iptables`/`tc`). */
export class LabUnavailableError extends Error {
  readonly code = 'ERR_LAB_UNAVAILABLE'
  constructor(message: string) {
    super(message)
    this.name = 'LabUnavailableError'
  }
}
