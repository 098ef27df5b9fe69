import { isIP } from 'node:net';

/**
 * IP addresses and CIDR blocks as integers, for the egress guard. Both families use bigint so
 * one containment test serves IPv4 (32 bits) and IPv6 (128 bits).
 */

export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export interface Cidr {
  readonly family: 4 | 6;
  /** The network address, host bits zero. */
  readonly network: bigint;
  readonly prefixLength: number;
  /** Canonical text, e.g. `10.0.0.0/8`. */
  readonly text: string;
}

function bitsOf(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function parseIpv4(text: string): bigint {
  let value = 0n;
  for (const part of text.split('.')) value = (value << 8n) | BigInt(Number(part));
  return value;
}

function parseIpv6(text: string): bigint {
  let s = text;
  // A trailing dotted quad (`::ffff:1.2.3.4`) is the last two groups written in IPv4 notation.
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const toGroups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  let groups: string[];
  const doubleColon = s.indexOf('::');
  if (doubleColon >= 0) {
    const head = toGroups(s.slice(0, doubleColon));
    const rest = toGroups(s.slice(doubleColon + 2));
    groups = [...head, ...new Array<string>(8 - head.length - rest.length).fill('0'), ...rest];
  } else {
    groups = toGroups(s);
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(Number.parseInt(g, 16));
  return value;
}

/** Parses an IPv4 or IPv6 literal (brackets and a `%zone` suffix are ignored); `null` if not one. */
export function parseIp(text: string): IpAddress | null {
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const family = isIP(s);
  if (family === 4) return { family: 4, value: parseIpv4(s) };
  if (family === 6) return { family: 6, value: parseIpv6(s.toLowerCase()) };
  return null;
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((ip.value >> shift) & 0xffffn).toString(16));
  // RFC 5952: the longest run of two or more zero groups (the first on a tie) becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

function mask(family: 4 | 6, prefixLength: number): bigint {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return (all >> BigInt(prefixLength)) ^ all;
}

/** Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a /32 or /128); throws a RangeError saying why. */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash >= 0 ? trimmed.slice(0, slash) : trimmed;
  const ip = parseIp(addressText);
  if (ip === null) {
    throw new RangeError(
      `"${text}" is not a CIDR block; expected e.g. "10.0.0.0/8", "fd00::/8" or "127.0.0.1".`,
    );
  }
  const maxBits = bitsOf(ip.family);
  let prefixLength = maxBits;
  if (slash >= 0) {
    const prefixText = trimmed.slice(slash + 1);
    prefixLength = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (!(prefixLength >= 0 && prefixLength <= maxBits)) {
      throw new RangeError(`"${text}" has prefix length "${prefixText}"; expected 0 to ${maxBits}.`);
    }
  }
  const network = ip.value & mask(ip.family, prefixLength);
  return {
    family: ip.family,
    network,
    prefixLength,
    text: `${formatIp({ family: ip.family, value: network })}/${prefixLength}`,
  };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  return cidr.family === ip.family && (ip.value & mask(cidr.family, cidr.prefixLength)) === cidr.network;
}

/** The intersection of two blocks: the narrower one when they nest, else `null` (CIDRs never overlap partially). */
export function intersectCidrs(a: Cidr, b: Cidr): Cidr | null {
  if (a.family !== b.family) return null;
  const [wide, narrow] = a.prefixLength <= b.prefixLength ? [a, b] : [b, a];
  return cidrContains(wide, { family: narrow.family, value: narrow.network }) ? narrow : null;
}
