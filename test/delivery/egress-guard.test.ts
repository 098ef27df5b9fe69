import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { buildConnector } from 'undici';
import {
  checkDeliveryUrl,
  checkEgressAddress,
  createEgressConnector,
  EgressBlockedError,
  type EgressLookup,
  InvalidDeliveryUrlError,
  narrowEgressAllowList,
  parseEgressAllowList,
  resolveEgressAddresses,
} from '../../src/delivery/egress-guard.ts';
import { HookyardError } from '../../src/domain/errors.ts';

const BLOCKED: Array<[string, RegExp]> = [
  ['0.0.0.0', /unspecified/],
  ['0.1.2.3', /this network/],
  ['127.0.0.1', /loopback/],
  ['127.255.255.254', /loopback/],
  ['10.0.0.1', /private/],
  ['172.16.0.1', /private/],
  ['172.31.255.255', /private/],
  ['192.168.1.1', /private/],
  ['100.64.0.1', /carrier-grade NAT/],
  ['100.127.255.255', /carrier-grade NAT/],
  ['169.254.169.254', /link-local/],
  ['192.0.0.8', /IETF/],
  ['192.0.2.1', /documentation/],
  ['198.18.0.1', /benchmarking/],
  ['224.0.0.1', /multicast/],
  ['239.255.255.250', /multicast/],
  ['240.0.0.1', /reserved/],
  ['255.255.255.255', /broadcast/],
  ['::', /unspecified/],
  ['::1', /loopback/],
  ['[::1]', /loopback/],
  ['::7f00:1', /IPv4-compatible/],
  ['fe80::1', /link-local/],
  ['fe80::1%eth0', /link-local/],
  ['febf:ffff::1', /link-local/],
  ['fc00::1', /unique-local/],
  ['fd12:3456::1', /unique-local/],
  ['fec0::1', /site-local/],
  ['ff02::1', /multicast/],
  ['2001:db8::1', /documentation/],
  ['100::1', /discard/],
  ['64:ff9b:1::a00:1', /local-use NAT64/],
  // IPv4 addresses in IPv6 clothing.
  ['::ffff:127.0.0.1', /IPv4-mapped form of 127\.0\.0\.1, loopback/],
  ['::ffff:7f00:1', /IPv4-mapped form of 127\.0\.0\.1/],
  ['::FFFF:10.0.0.1', /IPv4-mapped form of 10\.0\.0\.1, private/],
  ['::ffff:169.254.169.254', /IPv4-mapped .*link-local/],
  ['::ffff:0.0.0.0', /IPv4-mapped .*unspecified/],
  ['::ffff:0:127.0.0.1', /SIIT-translated form of 127\.0\.0\.1/],
  ['64:ff9b::127.0.0.1', /NAT64 form of 127\.0\.0\.1, loopback/],
  ['64:ff9b::a9fe:a9fe', /NAT64 form of 169\.254\.169\.254/],
  ['2002:a00:1::1', /6to4 form of 10\.0\.0\.1, private/],
  ['2002:c0a8:101::', /6to4 form of 192\.168\.1\.1/],
  ['2002:7f00:1::', /6to4 form of 127\.0\.0\.1/],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo form of 192\.0\.2\.45/],
  ['2001:0:a00:1::', /Teredo form of 10\.0\.0\.1/],
];

const ALLOWED = [
  '93.184.216.34',
  '1.1.1.1',
  '8.8.8.8',
  '172.32.0.1',
  '100.128.0.1',
  '2606:4700:4700::1111',
  '::ffff:93.184.216.34',
  '64:ff9b::808:808',
  '2002:808:808::1',
];

describe('egress address rules', () => {
  for (const [address, reason] of BLOCKED) {
    it(`blocks ${address}`, () => {
      const verdict = checkEgressAddress(address);
      assert.equal(verdict.allowed, false);
      assert.match(verdict.allowed ? '' : verdict.reason, reason);
    });
  }

  it('allows public addresses, including public IPv4 in mapped, NAT64 and 6to4 forms', () => {
    for (const address of ALLOWED) assert.deepEqual(checkEgressAddress(address), { allowed: true }, address);
  });

  it('refuses things that are not IP addresses', () => {
    assert.equal(checkEgressAddress('localhost').allowed, false);
    assert.equal(checkEgressAddress('127.1').allowed, false);
  });

  it('lets the allow list open blocked ranges, mapped IPv4 included but not translated forms', () => {
    const allow = parseEgressAllowList('127.0.0.0/8, 10.1.0.0/16 ,fd00::/8,');
    assert.deepEqual(
      allow.map((c) => c.text),
      ['127.0.0.0/8', '10.1.0.0/16', 'fd00::/8'],
    );
    assert.equal(checkEgressAddress('127.0.0.1', allow).allowed, true);
    assert.equal(checkEgressAddress('::ffff:127.0.0.1', allow).allowed, true);
    assert.equal(checkEgressAddress('10.1.2.3', allow).allowed, true);
    assert.equal(checkEgressAddress('10.2.0.1', allow).allowed, false);
    assert.equal(checkEgressAddress('fd00::1', allow).allowed, true);
    assert.equal(checkEgressAddress('fc00::1', allow).allowed, false);
    assert.equal(checkEgressAddress('::1', allow).allowed, false, 'IPv6 loopback needs its own entry');
    assert.equal(checkEgressAddress('64:ff9b::7f00:1', allow).allowed, false, 'NAT64 reaches a translator');
    assert.deepEqual(
      parseEgressAllowList(['192.168.0.1', ' ']).map((c) => c.text),
      ['192.168.0.1/32'],
    );
    assert.deepEqual(parseEgressAllowList(undefined), []);
  });

  it('rejects a bad allow list entry by name', () => {
    assert.throws(
      () => parseEgressAllowList('10.0.0.0/8,10.0.0.0/33'),
      (e: unknown) =>
        e instanceof HookyardError && e.code === 'validation_failed' && /10\.0\.0\.0\/33/.test(e.detail),
    );
    assert.throws(() => parseEgressAllowList('example.com'), /not a CIDR block/);
  });

  it('narrows a project allow list to the operator one', () => {
    const operator = parseEgressAllowList('10.0.0.0/8,192.168.1.0/24');
    const project = parseEgressAllowList('10.5.0.0/16,192.168.0.0/16,172.16.0.0/12,fd00::/8');
    assert.deepEqual(
      narrowEgressAllowList(operator, project).map((c) => c.text),
      ['10.5.0.0/16', '192.168.1.0/24'],
    );
    assert.deepEqual(narrowEgressAllowList(operator, []), []);
    assert.deepEqual(narrowEgressAllowList([], project), []);
  });
});

describe('delivery URLs', () => {
  it('accepts http and https', () => {
    assert.equal(checkDeliveryUrl('https://example.com/hook?x=1').hostname, 'example.com');
    assert.equal(checkDeliveryUrl('http://[2606:4700::1]:8080/').hostname, '[2606:4700::1]');
  });

  it('rejects other schemes, garbage and credentials', () => {
    for (const url of [
      'ftp://example.com/',
      'file:///etc/passwd',
      'gopher://x/',
      'javascript:alert(1)',
      'not a url',
    ]) {
      assert.throws(() => checkDeliveryUrl(url), InvalidDeliveryUrlError, url);
    }
    assert.throws(
      () => checkDeliveryUrl('ftp://example.com/'),
      /scheme "ftp" is not allowed; expected http or https/,
    );
    assert.throws(() => checkDeliveryUrl('https://user:pw@example.com/'), /must not contain credentials/);
  });

  it('sees through the URL parser normalising odd IPv4 spellings', async () => {
    for (const url of ['http://0x7f.1/', 'http://2130706433/', 'http://017700000001/', 'http://127.1/']) {
      const { hostname } = checkDeliveryUrl(url);
      await assert.rejects(resolveEgressAddresses(hostname), EgressBlockedError, url);
    }
  });
});

describe('egress connector', () => {
  type Call = { hostname: string; servername: string | undefined };

  function recordingBase(): { base: buildConnector.connector; calls: Call[] } {
    const calls: Call[] = [];
    const base: buildConnector.connector = (options, callback) => {
      calls.push({ hostname: options.hostname, servername: options.servername });
      callback(Object.assign(new Error('test base connector does not connect'), { code: 'ETEST' }), null);
    };
    return { base, calls };
  }

  function connect(
    connector: buildConnector.connector,
    hostname: string,
    protocol = 'http:',
  ): Promise<Error> {
    return new Promise((resolve, reject) => {
      connector({ hostname, host: `${hostname}:80`, protocol, port: '80' }, (...result) => {
        const [error] = result;
        if (error === null) reject(new Error('expected the connect to fail'));
        else resolve(error);
      });
    });
  }

  it('refuses a hostname that resolves to a private address without opening any socket', async () => {
    const { base, calls } = recordingBase();
    const lookups: string[] = [];
    const lookup: EgressLookup = async (host) => {
      lookups.push(host);
      return [{ address: '10.0.0.1' }];
    };
    const error = await connect(createEgressConnector({ lookup, baseConnector: base }), 'rebind.example');
    assert.ok(error instanceof EgressBlockedError);
    assert.equal(error.kind, 'egress_blocked');
    assert.equal(error.address, '10.0.0.1');
    assert.match(
      error.message,
      /egress to 10\.0\.0\.1 \(resolved from rebind\.example\) is blocked: private/,
    );
    assert.deepEqual(lookups, ['rebind.example']);
    assert.deepEqual(calls, [], 'the base connector was never asked to connect');
  });

  it('connects only to the checked addresses of a mixed answer, passing the name for TLS', async () => {
    const { base, calls } = recordingBase();
    const lookup: EgressLookup = async () => [
      { address: '10.0.0.1' },
      { address: '127.0.0.1' },
      { address: '::ffff:192.168.0.1' },
    ];
    const allow = parseEgressAllowList('127.0.0.0/8');
    const error = await connect(
      createEgressConnector({ lookup, allow, baseConnector: base }),
      'mixed.example',
      'https:',
    );
    assert.equal((error as { code?: string }).code, 'ETEST');
    assert.deepEqual(calls, [{ hostname: '127.0.0.1', servername: 'mixed.example' }]);
  });

  it('checks IP literals without a lookup', async () => {
    const { base, calls } = recordingBase();
    const lookup: EgressLookup = async () => assert.fail('no lookup for a literal');
    for (const literal of ['127.0.0.1', '::ffff:127.0.0.1', '::ffff:7f00:1', '169.254.169.254', '::1']) {
      const error = await connect(createEgressConnector({ lookup, baseConnector: base }), literal);
      assert.ok(error instanceof EgressBlockedError, literal);
      assert.match(error.message, new RegExp(`egress to ${literal.replace(/\./g, '\\.')} is blocked`));
    }
    assert.deepEqual(calls, []);
    await connect(createEgressConnector({ lookup, baseConnector: base }), '93.184.216.34');
    assert.deepEqual(calls, [{ hostname: '93.184.216.34', servername: undefined }]);
  });

  it('tries the next allowed address when one refuses the connection', async () => {
    const tried: string[] = [];
    const base: buildConnector.connector = (options, callback) => {
      tried.push(options.hostname);
      callback(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), null);
    };
    const lookup: EgressLookup = async () => [{ address: '93.184.216.34' }, { address: '93.184.216.35' }];
    const error = await connect(createEgressConnector({ lookup, baseConnector: base }), 'two.example');
    assert.equal((error as { code?: string }).code, 'ECONNREFUSED');
    assert.deepEqual(tried, ['93.184.216.34', '93.184.216.35']);
  });

  it('passes resolver failures through', async () => {
    const lookup: EgressLookup = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nope.invalid'), { code: 'ENOTFOUND' });
    };
    const error = await connect(createEgressConnector({ lookup }), 'nope.invalid');
    assert.equal((error as { code?: string }).code, 'ENOTFOUND');
    const empty = await connect(createEgressConnector({ lookup: async () => [] }), 'empty.example');
    assert.equal((empty as { code?: string }).code, 'ENOTFOUND');
  });
});
