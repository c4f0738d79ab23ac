// Defaults of @cpc/discovery. Every value here is overridable through DiscoveryInit / PeerExchangeInit.

/** The Kademlia protocol id of cpc-net (a private DHT, never joined with the public IPFS one). */
export const DHT_PROTOCOL = '/cpc/kad/1.0.0'

/** Prefix hashed with a group name to derive its DHT provider key: sha256('cpc/group/' + name). */
export const GROUP_KEY_PREFIX = 'cpc/group/'

/** Tag put on bootstrap peers in the libp2p peer store and passed to ConnectionManager.protect. */
export const BOOTSTRAP_TAG = 'cpc-bootstrap'

/** Longest group name accepted (bytes of UTF-8), so keys and logs stay bounded. */
export const MAX_GROUP_NAME_BYTES = 128

/** Groups one node may be a member of at once. */
export const MAX_JOINED_GROUPS = 64

/**
 * How long a provider record we publish stays valid on the DHT servers (ms). libp2p's default is 48 h;
 * groups are expected to churn faster, so records expire after 1 h unless re-announced.
 */
export const DEFAULT_GROUP_RECORD_TTL_MS = 60 * 60 * 1000

/** Re-announce group membership at this fraction of the record TTL (well before expiry). */
export const GROUP_REPROVIDE_FRACTION = 0.5

/** Peers remembered by knownPeers() (least recently seen evicted first). */
export const DEFAULT_MAX_KNOWN_PEERS = 1024

/** Multiaddrs kept per known peer. */
export const MAX_ADDRS_PER_PEER = 16

/** Default time limit of one discoverPeers call (ms). */
export const DEFAULT_DISCOVER_TIMEOUT_MS = 30_000

/** Default number of peers returned by discoverPeers. */
export const DEFAULT_DISCOVER_LIMIT = 20

/** Time limit of one dial of a discovered peer (ms). */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000

/** Dials of discovered peers running at once; further discoveries wait (bounded queue). */
export const DEFAULT_MAX_PARALLEL_DIALS = 8

/** Discovered peers waiting to be dialled; beyond this new discoveries are not dialled. */
export const DEFAULT_MAX_DIAL_QUEUE = 256

/** Bootstrap dial retries when no connection manager is given (the CM has its own backoff). */
export const BOOTSTRAP_RETRY_ATTEMPTS = 5
/** First delay between bootstrap retries (ms), doubled each attempt. */
export const BOOTSTRAP_RETRY_BASE_MS = 500

// Peer exchange

/** Largest `limit` a peer-exchange request may ask for; larger requests are clamped. */
export const DEFAULT_PEX_MAX_PEERS = 32

/** Largest encoded DISCOVERY payload accepted or produced (bytes). */
export const DEFAULT_PEX_MAX_PAYLOAD_BYTES = 64 * 1024

/** Multiaddrs per PeerInfo accepted or produced. */
export const DEFAULT_PEX_MAX_ADDRS_PER_PEER = 8

/** Largest signed peer record envelope accepted (bytes). */
export const DEFAULT_PEX_MAX_RECORD_BYTES = 4 * 1024

/** Requests answered per peer: a token bucket of this many tokens... */
export const DEFAULT_PEX_RATE_BURST = 3
/** ...refilled at one token per this many ms. */
export const DEFAULT_PEX_RATE_INTERVAL_MS = 10_000

/** Peers whose rate-limit buckets are remembered (least recently used evicted). */
export const DEFAULT_PEX_RATE_MAX_PEERS = 1024

/** Time to wait for a peer-exchange response (ms). */
export const DEFAULT_PEX_REQUEST_TIMEOUT_MS = 10_000

/** Outstanding peer-exchange requests at once. */
export const DEFAULT_PEX_MAX_PENDING = 16

/** Score below which a peer is never shared in a peer-exchange response. */
export const DEFAULT_PEX_MIN_SCORE = 0.1

/** Peers known to be members of a group, remembered per group (most recently seen kept). */
export const DEFAULT_GROUP_DIRECTORY_MAX_MEMBERS = 64
/** Groups of other peers remembered (least recently updated forgotten first). */
export const DEFAULT_GROUP_DIRECTORY_MAX_GROUPS = 256

// Periodic peer exchange

/** Base period of the periodic exchange (ms); doubled after a round that learned nothing. */
export const DEFAULT_PERIODIC_EXCHANGE_INTERVAL_MS = 30_000
/** Longest period of the periodic exchange after backoff (ms). */
export const DEFAULT_PERIODIC_EXCHANGE_MAX_BACKOFF_MS = 10 * 60_000
/** The periodic exchange asks only while fewer peers than this are connected. */
export const DEFAULT_PERIODIC_EXCHANGE_TARGET_PEERS = 8
/** Peers asked for in one periodic exchange. */
export const DEFAULT_PERIODIC_EXCHANGE_LIMIT = 16
/** A peer asked by the periodic exchange is not asked again for this long (ms). */
export const DEFAULT_PERIODIC_EXCHANGE_PEER_COOLDOWN_MS = 5 * 60_000
/** Peers whose last periodic ask is remembered. */
export const PERIODIC_EXCHANGE_MAX_ASKED = 256

// Announcements of our own record

/** Best-scored connected peers an announcement goes to. */
export const DEFAULT_ANNOUNCE_MAX_PEERS = 8
/**
 * Least time between two announcement rounds (ms); triggers in between are coalesced into one round
 * at the end. Kept above the receivers' refill interval (DEFAULT_PEX_RATE_INTERVAL_MS) so that an
 * honest node is never rate limited.
 */
export const DEFAULT_ANNOUNCE_MIN_INTERVAL_MS = 30_000
