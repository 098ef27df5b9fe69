/** Inbound part of the storage port: sources, inbound events, tenants. Filled in by the inbound work. */
// biome-ignore lint/suspicious/noEmptyInterface: grows with the inbound issue
export interface InboundStore {}
