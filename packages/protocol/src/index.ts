export * from './contracts.js'
