// Names of the spans cpc-net creates and of their attributes, so the router, the network handler
// and trace queries agree. Attribute values stay low-cardinality where they are aggregated on.

export const SPAN_NAMES = {
  /** One message handed to the router for sending (sendMessage / broadcast), until queued. */
  messageSend: 'cpc.message.send',
  /** The routing decision for one message: direct, relay or retry queue. */
  routeDecision: 'cpc.route.decision',
  /** One message written to a peer (last frame flushed) or received and delivered to the app. */
  messageDelivery: 'cpc.message.delivery',
} as const

export const SPAN_ATTRIBUTES = {
  /** Remote peer id (fine on spans: they are sampled, unlike metric labels). */
  peer: 'cpc.peer',
  origin: 'cpc.origin',
  nonce: 'cpc.nonce',
  priority: 'cpc.priority',
  messageType: 'cpc.message_type',
  bytes: 'cpc.bytes',
  /** `direct`, `relay` or `queued`. */
  route: 'cpc.route',
  /** `all`, `neighbors` or `group`. */
  scope: 'cpc.scope',
  direction: 'cpc.direction',
} as const
