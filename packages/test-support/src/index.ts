// Test support shared by the test/ folders of every project. Never imported from src/: the
// boundary check (tools/check-boundaries.mjs) allows it only in test files and devDependencies.
export { waitForEvent, record } from './events.js'
