import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { buildConnector } from 'undici';
import { HookyardError } from '../domain/errors.ts';
import {
  type Cidr,
  cidrContains,
  formatIp,
  type IpAddress,
  intersectCidrs,
  parseCidr,
  parseIp,
} from './ip-address.ts';

/**
 * The egress guard: outbound deliveries reach only globally routable addresses, unless the
 * operator allow-lists a block (`HOOKYARD_EGRESS_ALLOW`, comma-separated CIDRs).
 *
 * Why at connect time: checking a URL's hostname before the request is useless against DNS
 * rebinding (the name resolves to a public address for the check and to 10.0.0.1 a moment later
 * for the connect). So the undici connector built here resolves the name itself, drops every
 * blocked address, and opens the socket to one of the checked addresses, never to the name.
 * A connection in undici's pool therefore always points at an address that passed the check.
 * TLS still verifies the certificate against the hostname (passed as `servername`).
 *
 * Blocked: this-network/unspecified, loopback, RFC 1918, CGNAT, link-local, IETF/documentation/
 * benchmarking ranges, multicast, reserved and broadcast (IPv4); unspecified, loopback,
 * IPv4-compatible, discard, documentation, ORCHID, unique-local, link-local, site-local and
 * multicast (IPv6). IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`,
 * SIIT `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo `2001::/32`) are blocked
 * when the carried IPv4 address is. IPv4-mapped addresses are the IPv4 host itself, so an
 * allow-listed IPv4 block also allows its mapped form; the translated forms reach a translator,
 * not the host, and need their own IPv6 allow entry.
 */

export type EgressVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/**
 * Which allow list left an address blocked: the operator's (`HOOKYARD_EGRESS_ALLOW`), or the
 * project's narrower one (its delivery settings) when the operator's would have let it through.
 */
export type EgressListOwner = 'operator' | 'project';

/** Raised (and passed to undici) when every address of a destination is blocked. */
export class EgressBlockedError extends Error {
  readonly kind = 'egress_blocked' as const;
  readonly code = 'HOOKYARD_EGRESS_BLOCKED';
  readonly address: string;
  readonly blockedBy: EgressListOwner;
  constructor(address: string, reason: string, hostname?: string, blockedBy: EgressListOwner = 'operator') {
    const via = hostname !== undefined && hostname !== address ? ` (resolved from ${hostname})` : '';
    const remedy =
      blockedBy === 'project'
        ? "the operator's allow list (HOOKYARD_EGRESS_ALLOW) includes it, but the project's delivery settings narrow egress to a list that does not; add its CIDR to the project's egressAllow (PATCH /api/v1/projects/{projectId}/delivery-settings) to permit it."
        : "it is outside the operator's egress allow list; the operator can allow-list its CIDR in HOOKYARD_EGRESS_ALLOW to permit it.";
    super(`egress to ${address}${via} is blocked: ${reason}; ${remedy}`);
    this.name = 'EgressBlockedError';
    this.address = address;
    this.blockedBy = blockedBy;
  }
}

/** Raised for a delivery URL that can never be sent to (bad syntax, scheme, credentials). */
export class InvalidDeliveryUrlError extends Error {
  readonly kind = 'invalid_url' as const;
  readonly code = 'HOOKYARD_INVALID_URL';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDeliveryUrlError';
  }
}

interface Range {
  readonly cidr: Cidr;
  readonly reason: string;
}

function ranges(entries: readonly (readonly [string, string])[]): readonly Range[] {
  return entries.map(([text, reason]) => ({ cidr: parseCidr(text), reason }));
}

const BLOCKED_IPV4 = ranges([
  ['0.0.0.0/8', 'unspecified / this network'],
  ['10.0.0.0/8', 'private (RFC 1918)'],
  ['100.64.0.0/10', 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private (RFC 1918)'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private (RFC 1918)'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
]);

const BLOCKED_IPV6 = ranges([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'IPv4-compatible (deprecated)'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['100::/64', 'discard-only'],
  ['2001:2::/48', 'benchmarking'],
  ['2001:10::/28', 'ORCHID'],
  ['2001:20::/28', 'ORCHIDv2'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
]);

const IPV4_MAPPED = parseCidr('::ffff:0:0/96');
const IPV4_TRANSLATED = parseCidr('::ffff:0:0:0/96');
const NAT64 = parseCidr('64:ff9b::/96');
const SIX_TO_FOUR = parseCidr('2002::/16');
const TEREDO = parseCidr('2001::/32');
const LOW_32_BITS = 0xffffffffn;

function v4(value: bigint): IpAddress {
  return { family: 4, value: value & LOW_32_BITS };
}

/** IPv4 addresses an IPv6 address routes to or through, with the name of the form. */
function embeddedIpv4(ip: IpAddress): { form: string; addresses: IpAddress[] } | null {
  if (cidrContains(IPV4_TRANSLATED, ip)) return { form: 'SIIT-translated', addresses: [v4(ip.value)] };
  if (cidrContains(NAT64, ip)) return { form: 'NAT64', addresses: [v4(ip.value)] };
  if (cidrContains(SIX_TO_FOUR, ip)) return { form: '6to4', addresses: [v4(ip.value >> 80n)] };
  // Teredo carries the server address in bits 32–63 and the client address inverted in the last 32.
  if (cidrContains(TEREDO, ip)) return { form: 'Teredo', addresses: [v4(ip.value >> 64n), v4(~ip.value)] };
  return null;
}

function blockedRange(ip: IpAddress): Range | undefined {
  return (ip.family === 4 ? BLOCKED_IPV4 : BLOCKED_IPV6).find((range) => cidrContains(range.cidr, ip));
}

function isAllowListed(ip: IpAddress, allow: readonly Cidr[]): boolean {
  return allow.some((cidr) => cidrContains(cidr, ip));
}

/** Decides whether an IP literal may be connected to, given the allow list. Not an IP → refused. */
export function checkEgressAddress(address: string, allow: readonly Cidr[] = []): EgressVerdict {
  const ip = parseIp(address);
  if (ip === null) return { allowed: false, reason: 'not an IP address' };
  return checkIp(ip, allow);
}

function checkIp(ip: IpAddress, allow: readonly Cidr[]): EgressVerdict {
  if (isAllowListed(ip, allow)) return { allowed: true };
  if (ip.family === 6 && cidrContains(IPV4_MAPPED, ip)) {
    const mapped = checkIp(v4(ip.value), allow);
    return mapped.allowed
      ? mapped
      : { allowed: false, reason: `IPv4-mapped form of ${formatIp(v4(ip.value))}, ${mapped.reason}` };
  }
  const range = blockedRange(ip);
  if (range !== undefined) return { allowed: false, reason: `${range.reason} (${range.cidr.text})` };
  if (ip.family === 6) {
    const embedded = embeddedIpv4(ip);
    for (const inner of embedded?.addresses ?? []) {
      const innerRange = blockedRange(inner);
      if (innerRange !== undefined) {
        return {
          allowed: false,
          reason: `${embedded?.form} form of ${formatIp(inner)}, ${innerRange.reason} (${innerRange.cidr.text})`,
        };
      }
    }
  }
  return { allowed: true };
}

/**
 * Parses the operator's allow list (`HOOKYARD_EGRESS_ALLOW`, or `config.egressAllow` already
 * split): comma-separated CIDRs or bare addresses, blanks ignored. Throws `validation_failed` naming the bad entry.
 */
export function parseEgressAllowList(text: string | readonly string[] | undefined): readonly Cidr[] {
  if (text === undefined) return [];
  const entries = (typeof text === 'string' ? text.split(',') : text)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return Object.freeze(
    entries.map((entry) => {
      try {
        return parseCidr(entry);
      } catch (error) {
        throw new HookyardError('validation_failed', `egress allow list: ${(error as Error).message}`);
      }
    }),
  );
}

/**
 * The operator's list each narrowed list came from, so a blocked connect can say which list
 * blocked it (the narrowed list is what travels to the connector).
 */
const narrowedFrom = new WeakMap<readonly Cidr[], readonly Cidr[]>();

/**
 * A project's allow list narrowed to what the operator allows: the intersection of the two, so a
 * project can only ever allow less than the operator. An empty project list allows nothing extra.
 */
export function narrowEgressAllowList(
  operatorAllow: readonly Cidr[],
  projectAllow: readonly Cidr[],
): readonly Cidr[] {
  const result: Cidr[] = [];
  for (const wanted of projectAllow) {
    for (const granted of operatorAllow) {
      const both = intersectCidrs(wanted, granted);
      if (both !== null && !result.some((c) => c.text === both.text)) result.push(both);
    }
  }
  const narrowed = Object.freeze(result);
  narrowedFrom.set(narrowed, operatorAllow);
  return narrowed;
}

/**
 * The entries of a project's list that reach outside the operator's: a project list may only
 * narrow egress, so these are refused when the list is set.
 */
export function egressEntriesOutside(operatorAllow: readonly Cidr[], projectAllow: readonly Cidr[]): Cidr[] {
  return projectAllow.filter(
    (wanted) => !operatorAllow.some((granted) => intersectCidrs(wanted, granted)?.text === wanted.text),
  );
}

/** Who blocked `address` under `allow`: the project's list when the operator's alone allows it. */
function blockingList(address: string, allow: readonly Cidr[]): EgressListOwner {
  const operator = narrowedFrom.get(allow);
  return operator !== undefined && checkEgressAddress(address, operator).allowed ? 'project' : 'operator';
}

/** Checks that a delivery URL is one we would ever send to; returns it parsed. */
export function checkDeliveryUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    throw new InvalidDeliveryUrlError('the endpoint URL is not a valid absolute URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidDeliveryUrlError(
      `the endpoint URL scheme "${parsed.protocol.replace(/:$/, '')}" is not allowed; expected http or https.`,
    );
  }
  if (parsed.hostname === '') throw new InvalidDeliveryUrlError('the endpoint URL has no host.');
  // undici would silently drop them, and they are a place secrets leak into logs from; endpoints
  // carry credentials as headers instead.
  if (parsed.username !== '' || parsed.password !== '') {
    throw new InvalidDeliveryUrlError(
      'the endpoint URL must not contain credentials; use endpoint headers instead.',
    );
  }
  return parsed;
}

/** Resolves a hostname to its addresses. The default asks the OS resolver (getaddrinfo). */
export type EgressLookup = (hostname: string) => Promise<readonly { readonly address: string }[]>;

export const systemLookup: EgressLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface EgressOptions {
  /** Blocks allowed despite the rules above (the operator's list, maybe narrowed by a project). */
  readonly allow?: readonly Cidr[];
  /** Injectable for tests (e.g. a name that "resolves" to 10.0.0.1). */
  readonly lookup?: EgressLookup;
  /**
   * Longest wait for the resolver. Default 10 s. A hung lookup would otherwise keep undici's
   * connection slot for that origin "connecting" forever, stalling every later request to it.
   */
  readonly lookupTimeoutMs?: number;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number | undefined, host: string): Promise<T> {
  const limitMs = timeoutMs ?? 10_000;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        Object.assign(new Error(`DNS lookup of ${host} timed out after ${limitMs} ms.`), {
          code: 'EAI_AGAIN',
        }),
      );
    }, limitMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The addresses of `hostname` that may be connected to, in resolver order. Throws
 * `EgressBlockedError` when every address is blocked, and the resolver's error when it fails.
 */
export async function resolveEgressAddresses(
  hostname: string,
  options: EgressOptions = {},
): Promise<string[]> {
  const allow = options.allow ?? [];
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIP(host) !== 0) {
    const verdict = checkEgressAddress(host, allow);
    if (!verdict.allowed) {
      throw new EgressBlockedError(host, verdict.reason, undefined, blockingList(host, allow));
    }
    return [host];
  }
  const resolved = await withTimeout((options.lookup ?? systemLookup)(host), options.lookupTimeoutMs, host);
  if (resolved.length === 0) {
    throw Object.assign(new Error(`DNS lookup of ${host} returned no addresses.`), { code: 'ENOTFOUND' });
  }
  const allowed: string[] = [];
  let firstBlocked: { address: string; reason: string } | undefined;
  for (const { address } of resolved) {
    const verdict = checkEgressAddress(address, allow);
    if (verdict.allowed) allowed.push(address);
    else firstBlocked ??= { address, reason: verdict.reason };
  }
  if (allowed.length === 0 && firstBlocked !== undefined) {
    throw new EgressBlockedError(
      firstBlocked.address,
      firstBlocked.reason,
      host,
      blockingList(firstBlocked.address, allow),
    );
  }
  return allowed;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Connect errors after which the next resolved address is worth a try. */
const TRY_NEXT_ADDRESS = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export interface EgressConnectorOptions extends EgressOptions {
  /** Per-address TCP/TLS connect timeout. Default 10 s (undici's). */
  readonly connectTimeoutMs?: number;
  /** Extra TLS options (e.g. a test CA). */
  readonly tls?: ConnectionOptions;
  /** The connector that opens sockets; injectable so tests can prove it is never called. */
  readonly baseConnector?: buildConnector.connector;
}

/**
 * An undici connector (`new Agent({ connect })`) that resolves, checks and then connects to a
 * checked IP. A blocked destination fails before any socket exists.
 */
export function createEgressConnector(options: EgressConnectorOptions = {}): buildConnector.connector {
  const base =
    options.baseConnector ??
    buildConnector({ ...options.tls, timeout: options.connectTimeoutMs ?? 10_000, keepAlive: true });
  return (connectOptions, callback) => {
    const hostname = connectOptions.hostname;
    const servername =
      isIP(hostname) === 0 ? (connectOptions.servername ?? hostname) : connectOptions.servername;
    const connectTo = (addresses: readonly string[], index: number): void => {
      const address = addresses[index];
      if (address === undefined) {
        callback(new Error(`no address of ${hostname} left to connect to.`), null);
        return;
      }
      try {
        base({ ...connectOptions, hostname: address, servername }, (...result) => {
          const code = (result[0] as { code?: unknown } | null)?.code;
          if (typeof code === 'string' && TRY_NEXT_ADDRESS.has(code) && index + 1 < addresses.length) {
            connectTo(addresses, index + 1);
          } else {
            callback(...result);
          }
        });
      } catch (error) {
        callback(toError(error), null);
      }
    };
    // Leave the promise chain before calling out, so an exception in undici's callback surfaces
    // like one from a socket event instead of becoming an unhandled rejection.
    resolveEgressAddresses(hostname, options).then(
      (addresses) => process.nextTick(connectTo, addresses, 0),
      (error: unknown) => process.nextTick(callback, toError(error), null),
    );
  };
}
