// Preloaded into every devnet child (`node --import`): when the launcher dies without stopping its
// children (SIGKILL, a crash past its exit handlers), the child is re-parented and this notices it
// within a second and sends itself SIGTERM (the program's own graceful stop), then exits for sure.
const parent = Number(process.env.CPC_DEVNET_PARENT_PID)
if (Number.isInteger(parent) && parent > 1) {
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    process.kill(process.pid, 'SIGTERM')
    setTimeout(() => process.exit(1), 5000).unref()
  }, 1000)
  timer.unref()
}
export {}
