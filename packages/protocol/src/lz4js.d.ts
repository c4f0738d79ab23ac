// Minimal types for lz4js 0.2.0 (CommonJS, untyped); only the block decoder is used, by tests, to
// cross-check this package's LZ4 encoder against an independent implementation.
declare module 'lz4js' {
  export function decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number
}
