// The shared event waits (30 s bound); see packages/test-support/README.md.
export { waitForEvent, record } from '@cpc/test-support'
