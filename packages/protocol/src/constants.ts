/** The libp2p protocol id every cpc-net frame travels on. */
export const PROTOCOL_ID = '/cpc/1.0.0'

/**
 * Domain-separation prefix of a message's leaf hash: leaf = SHA-256(LEAF_DOMAIN || canonical
 * encoding of every field but signature and batch). UTF-8, 14 bytes, no terminator. Its first byte
 * ('c') differs from MERKLE_NODE_PREFIX, so a leaf can never be read as an internal node.
 */
export const LEAF_DOMAIN = 'cpc/1.0.0/leaf'

/**
 * Domain-separation prefix of what Ed25519 signs: BATCH_DOMAIN || root (32 bytes). A signature made
 * for cpc-net can never be replayed as a signature for another protocol using the same key.
 */
export const BATCH_DOMAIN = 'cpc/1.0.0/batch'

/** First byte hashed into an internal Merkle node: SHA-256(0x01 || left || right) (RFC 6962). */
export const MERKLE_NODE_PREFIX = 0x01

/** Length of a leaf, a root and each path element (SHA-256). */
export const HASH_BYTES = 32

/** Messages a sender signs with one Merkle root at most (the router's default maxSignBatch). */
export const DEFAULT_MAX_SIGN_BATCH = 16

/**
 * Largest batch (BatchProof.count) a verifier accepts: above any sender's maxSignBatch default, and
 * it bounds a proof's path at 6 hashes (192 bytes), so folding a proof costs at most 6 SHA-256.
 */
export const DEFAULT_MAX_VERIFY_BATCH = 64

/**
 * Verified (origin, root, signature) triples a verifier remembers, least recently used evicted: the
 * other messages of a batch then cost their leaf hash and path fold, no Ed25519 verification. Each
 * entry is ~0.3 KB; 1024 roots cover 16k messages of 16-message batches in flight.
 */
export const DEFAULT_VERIFIED_ROOTS_CACHE_SIZE = 1024

/**
 * Largest frame body (the protobuf after the varint length prefix) a reader accepts. A longer
 * declared length is rejected as soon as the prefix is read, before any of the body is buffered.
 */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024

/**
 * The longest varint length prefix accepted. 5 bytes carry 35 bits, far above any sane
 * maxFrameBytes; a longer prefix (e.g. 0x80 0x80 0x80 ... padding) is malformed.
 */
export const MAX_LENGTH_PREFIX_BYTES = 5

/**
 * Payloads above this many bytes (after compression) are split into chunks of at most this size.
 * A 256 KiB chunk plus the message header (~150 bytes with a 38-byte origin, 64-byte signature,
 * group and recipient) fits well within DEFAULT_MAX_FRAME_BYTES.
 */
export const DEFAULT_CHUNK_BYTES = 256 * 1024

/**
 * Payloads at or below this size are never compressed: LZ4 rarely saves anything on small
 * protobufs, and the CPU is better spent elsewhere.
 */
export const DEFAULT_COMPRESSION_THRESHOLD_BYTES = 1024

/** Payloads of at least this many bytes are sampled before LZ4 is tried on the whole (compressPayload). */
export const COMPRESSION_SAMPLE_MIN_BYTES = 64 * 1024

/** Size of each of the three samples (start, middle, end of the payload). */
export const COMPRESSION_SAMPLE_BYTES = 4 * 1024

/** The samples must compress below this fraction of their size for the whole payload to be compressed. */
export const COMPRESSION_SAMPLE_MAX_RATIO = 0.9

/** Receivers refuse to decompress a payload that declares more than this many bytes. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024

/**
 * Largest whole payload (before compression) buildMessages accepts: a receiver would refuse to
 * decompress anything bigger, so refuse it at the sender.
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = DEFAULT_MAX_DECOMPRESSED_BYTES

/** Largest reassembled (possibly compressed) payload a Reassembler accepts (chunk.total_bytes). */
export const DEFAULT_REASSEMBLY_MAX_MESSAGE_BYTES = DEFAULT_MAX_DECOMPRESSED_BYTES

/** Partially received chunked messages held at once, over all origins. */
export const DEFAULT_REASSEMBLY_MAX_MESSAGES = 64

/** Partially received chunked messages held at once for one origin, so one peer cannot fill the buffer. */
export const DEFAULT_REASSEMBLY_MAX_MESSAGES_PER_ORIGIN = 8

/** Bytes of chunk payloads buffered at once, over all partial messages. */
export const DEFAULT_REASSEMBLY_MAX_BYTES = 128 * 1024 * 1024

/** A chunked message whose chunks have not all arrived this long after its first chunk is dropped. */
export const DEFAULT_REASSEMBLY_TIMEOUT_MS = 30_000

/** Public keys (derived from origin peer ids) the verifier keeps ready, least recently used evicted. */
export const DEFAULT_VERIFIER_CACHE_SIZE = 1024

/** Bits of a nonce below the millisecond timestamp: up to 2^20 nonces per millisecond. */
export const NONCE_COUNTER_BITS = 20

/** Length of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64
