// One shared jest preset for every project (ESM mode, @swc/jest). See shared/TOOLING_NOTES.md.
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(fileURLToPath(import.meta.url))

/** @param {string} projectDir */
export function jestConfig(projectDir) {
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    // The Node 20 shim runs first in every test context (tests run in their own vm context).
    setupFiles: [path.join(root, 'packages/observability/src/node-compat.ts')],
    moduleNameMapper: {
      // Tests run on the sources of sibling packages, no build needed.
      '^@cpc/(protocol|scoring|connection-manager|discovery|router|network|observability)$': path.join(root, 'packages/$1/src/index.ts'),
      // Shared test support (packages/test-support): test files only, never built.
      '^@cpc/test-support$': path.join(root, 'packages/test-support/src/index.ts'),
      '^@cpc/test-support/app-process$': path.join(root, 'packages/test-support/src/app-process.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'es6' },
        },
      ],
    },
    testTimeout: 60_000,
  }
}
