// The shared app-process helpers; see packages/test-support/README.md.
export * from '@cpc/test-support/app-process'
