// The gRPC ProtocolService (proto/cpc/protocol/v1/protocol.proto): the wire limits a node runs with,
// and a frame inspector (decode one length-prefixed CpcMessage and verify its signature) for
// debugging and for checking other-language implementations against this one.
import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_COMPRESSION_THRESHOLD_BYTES,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  PROTOCOL_ID,
  BATCH_DOMAIN,
} from './constants.js'
import { ProtocolError } from './errors.js'
import { FrameDecoder } from './frame.js'
import type { ProtocolServiceImplementation } from './gen/cpc/protocol/v1/protocol.js'
import { MessageVerifier } from './signing.js'

/** The limits reported by GetProtocolInfo and applied by DecodeFrame (defaults: the protocol's). */
export interface ProtocolServiceInit {
  maxFrameBytes?: number
  chunkBytes?: number
  compressionThresholdBytes?: number
  maxDecompressedBytes?: number
}

export function createProtocolService(init: ProtocolServiceInit = {}): ProtocolServiceImplementation {
  const maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const verifier = new MessageVerifier({ cacheSize: 64 })
  return {
    async getProtocolInfo() {
      return {
        protocolId: PROTOCOL_ID,
        maxFrameBytes,
        chunkBytes: init.chunkBytes ?? DEFAULT_CHUNK_BYTES,
        compressionThresholdBytes: init.compressionThresholdBytes ?? DEFAULT_COMPRESSION_THRESHOLD_BYTES,
        maxDecompressedBytes: BigInt(init.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES),
        signingDomain: BATCH_DOMAIN,
      }
    },
    // A rejected frame is an answer (error_code/error_message), not a failed call: the caller asked
    // what is wrong with these bytes.
    async decodeFrame(request) {
      const decoder = new FrameDecoder({ maxFrameBytes })
      let messages
      try {
        messages = decoder.push(request.frame)
        decoder.end()
        if (messages.length !== 1) throw new ProtocolError(`expected exactly one frame, got ${messages.length}`, 'ERR_MALFORMED_FRAME')
      } catch (err) {
        return { message: undefined, signatureValid: false, ...rejection(err) }
      }
      const message = messages[0]
      try {
        verifier.verify(message)
        return { message, signatureValid: true, errorCode: '', errorMessage: '' }
      } catch (err) {
        return { message, signatureValid: false, ...rejection(err) }
      }
    },
  }
}

function rejection(err: unknown): { errorCode: string; errorMessage: string } {
  if (err instanceof ProtocolError) return { errorCode: err.code, errorMessage: err.message }
  throw err
}
