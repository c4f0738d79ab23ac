// Node's timers behind the DiscoveryTimers interface, unref'd: discovery's periodic work never keeps
// a process alive.
import type { DiscoveryTimers } from './types.js'

export const nodeTimers: DiscoveryTimers = {
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms)
    timer.unref?.()
    return timer
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
}
