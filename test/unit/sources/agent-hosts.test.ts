// Where agent calls may go: a card's `url` must be a plain base URL, and a registry card's host
// must be allowed by PALLET_AGENT_HOSTS (by default: any but link-local and metadata
// addresses). All checks are on the URL as written; nothing is looked up.
import assert from 'node:assert/strict';
import {
  checkBaseUrl,
  hostMatches,
  parseAgentHosts,
  parseHostPattern,
  protectedHost,
  refusedHost,
  type BaseUrl,
  type HostPattern,
} from '../../../src/sources/agent-hosts';
import { loadSettings } from '../../../src/settings';

/** The checked URL, failing the test when it is refused. */
function base(url: string): BaseUrl {
  const checked = checkBaseUrl(url);
  assert.ok(checked.ok, `${url}: ${checked.ok ? '' : checked.reason}`);
  return { url: checked.url, host: checked.host, port: checked.port };
}

/** Why the URL is refused, failing the test when it is accepted. */
function reason(url: unknown): string {
  const checked = checkBaseUrl(url);
  assert.ok(!checked.ok, `${String(url)} should be refused, got ${checked.ok ? checked.url : ''}`);
  return checked.reason;
}

const hosts = (value: string): HostPattern[] => parseAgentHosts(value)!;
const allowed = (url: string, patterns?: HostPattern[]) => refusedHost(base(url), patterns) === undefined;

describe('agent addresses: plain base URLs', () => {
  it('accepts http and https with a host, an optional port and path prefix; gives the normalised URL calls go to', () => {
    assert.deepEqual(base('http://localhost:8001'), { url: 'http://localhost:8001', host: 'localhost', port: 8001 });
    assert.deepEqual(base('https://agents.example.com/pallet/plan/'), { url: 'https://agents.example.com/pallet/plan', host: 'agents.example.com', port: 443 });
    assert.deepEqual(
      base('HTTP://Agents.EXAMPLE.com:80/'),
      { url: 'http://agents.example.com', host: 'agents.example.com', port: 80 },
      'scheme and host lowercased, default port dropped',
    );
    assert.deepEqual(base('http://[::1]:8000/p'), { url: 'http://[::1]:8000/p', host: '[::1]', port: 8000 });
    assert.deepEqual(base('http://[FE80:0:0::1]/'), { url: 'http://[fe80::1]', host: '[fe80::1]', port: 80 }, 'IPv6 compressed and lowercased');
    assert.deepEqual(
      base('http://example.com./x'),
      { url: 'http://example.com./x', host: 'example.com', port: 80 },
      'the trailing dot is kept in the URL, not in the host',
    );
    assert.deepEqual(base('http://a/b/../c//'), { url: 'http://a/c', host: 'a', port: 80 }, 'dot segments resolved as fetch would');
  });

  it('refuses a query string, a fragment and user info, wherever they are', () => {
    assert.match(reason('http://agent:1/?x='), /query string/);
    assert.match(reason('http://agent:1?x=/steal'), /query string/);
    assert.match(reason('http://agent:1/?'), /query string/, 'even an empty one: "/execute" would become its value');
    assert.match(reason('http://agent:1/#'), /fragment/);
    assert.match(reason('http://agent:1/a#b'), /fragment/);
    assert.match(reason('http://user:pass@agent:1'), /user info/);
    assert.match(reason('http://@agent:1'), /user info/);
    assert.match(reason('http://agent.example.com@169.254.169.254/'), /user info/);
  });

  it('refuses other schemes, relative and malformed URLs, whitespace and backslashes', () => {
    assert.match(reason('ftp://agent/'), /scheme is "ftp", not http or https/);
    assert.match(reason('file:///etc/passwd'), /scheme is "file"/);
    assert.match(reason('javascript:alert(1)'), /scheme is "javascript"/);
    assert.match(reason('agent:8001'), /scheme is "agent"/);
    assert.match(reason('/relative/path'), /not an absolute URL/);
    assert.match(reason('localhost'), /not an absolute URL/);
    assert.match(reason('http:agent'), /no "\/\/"/);
    assert.match(reason('http:///agent'), /no host/);
    assert.match(reason('http://'), /no host/);
    assert.match(reason('http://./'), /no host/);
    assert.match(reason('http://agent:99999/'), /host or port is not valid/);
    assert.match(reason('http://ag ent/'), /whitespace/);
    assert.match(reason(' http://agent/'), /whitespace/);
    assert.match(reason('http://agent/\n'), /whitespace/);
    assert.match(reason('http:\\\\169.254.169.254\\'), /backslash/);
    assert.match(reason(''), /empty/);
    assert.match(reason(undefined), /empty/);
  });
});

describe('agent hosts: PALLET_AGENT_HOSTS patterns', () => {
  it('parses host, host:port, IPv6 with and without brackets, *.domain and *, normalised as URLs are', () => {
    assert.equal(parseAgentHosts(undefined), undefined);
    assert.equal(parseAgentHosts(' , '), undefined, 'blank is unset');
    assert.deepEqual(hosts('Agents.Example.COM., localhost:8001, [::1]:9000, FE80::1, *.Corp.Example, *:443, 0xA9FEA9FE'), [
      { text: 'Agents.Example.COM.', kind: 'exact', host: 'agents.example.com', port: undefined },
      { text: 'localhost:8001', kind: 'exact', host: 'localhost', port: 8001 },
      { text: '[::1]:9000', kind: 'exact', host: '[::1]', port: 9000 },
      { text: 'FE80::1', kind: 'exact', host: '[fe80::1]', port: undefined },
      { text: '*.Corp.Example', kind: 'subdomains', host: 'corp.example', port: undefined },
      { text: '*:443', kind: 'any', host: '', port: 443 },
      { text: '0xA9FEA9FE', kind: 'exact', host: '169.254.169.254', port: undefined },
    ]);
  });

  it('refuses entries that are not a host and an optional port, naming the entry', () => {
    for (const [text, why] of [
      ['http://agents.example.com', /no scheme, path or user/],
      ['agents.example.com/path', /no scheme, path or user/],
      ['user@host', /no scheme, path or user/],
      ['host:', /port is not a number/],
      ['host:0', /port is not a number/],
      ['host:65536', /port is not a number/],
      ['host:http', /port is not a number/],
      ['[::1', /IPv6 address in brackets/],
      ['[::1]x', /IPv6 address in brackets/],
      ['a.*.example.com', /wildcard is only/],
      ['*example.com', /wildcard is only/],
      ['**.example.com', /wildcard is only/],
      ['*.169.254.169.254', /domain name, not an IP address/],
      ['*.[::1]', /wildcard/],
      ['exa mple.com', /no scheme/],
      ['bad%host', /not a valid host/],
    ] as const) {
      assert.throws(
        () => parseHostPattern(text),
        (err: Error) => err.message.startsWith(`PALLET_AGENT_HOSTS: "${text}" is not a host pattern (`) && why.test(err.message),
        text,
      );
    }
    assert.throws(() => loadSettings({ PALLET_AGENT_HOSTS: 'ok.example, http://bad' }), /PALLET_AGENT_HOSTS: "http:\/\/bad"/, 'loadSettings refuses it too');
    assert.deepEqual(
      loadSettings({ PALLET_AGENT_HOSTS: 'a.example' }).agentHosts?.map((p) => p.host),
      ['a.example'],
    );
    assert.equal(loadSettings({}).agentHosts, undefined);
  });

  it('matches hosts case-insensitively, with or without trailing dots, on any port unless one is given (80/443 when the URL has none)', () => {
    const [exact, withPort, https] = hosts('agents.example.com, localhost:8001, secure.example:443');
    assert.ok(hostMatches(exact, base('http://AGENTS.example.com:9999')));
    assert.ok(hostMatches(exact, base('http://agents.example.com.')));
    assert.ok(hostMatches(exact, base('http://agents.example.com..')));
    assert.ok(!hostMatches(exact, base('http://agents.example.com.evil')));
    assert.ok(!hostMatches(exact, base('http://x.agents.example.com')));
    assert.ok(hostMatches(withPort, base('http://localhost:8001/a')));
    assert.ok(!hostMatches(withPort, base('http://localhost:8002')));
    assert.ok(!hostMatches(withPort, base('http://localhost')));
    assert.ok(hostMatches(https, base('https://secure.example')));
    assert.ok(hostMatches(https, base('http://secure.example:443')));
    assert.ok(!hostMatches(https, base('http://secure.example')));
  });

  it('*.domain matches names under the domain at any depth, not the domain itself, lookalikes or IP addresses', () => {
    const [sub] = hosts('*.example.com');
    assert.ok(hostMatches(sub, base('http://a.example.com')));
    assert.ok(hostMatches(sub, base('http://a.b.EXAMPLE.com.:8080')));
    assert.ok(!hostMatches(sub, base('http://example.com')));
    assert.ok(!hostMatches(sub, base('http://evilexample.com')));
    assert.ok(!hostMatches(sub, base('http://example.com.evil.net')));
    const [any, anyOn443] = hosts('*, *:443');
    assert.ok(hostMatches(any, base('http://10.0.0.1:1')));
    assert.ok(hostMatches(anyOn443, base('https://x')));
    assert.ok(!hostMatches(anyOn443, base('http://x')));
  });

  it('IPv6 literals match in any spelling the URL parser reads the same', () => {
    const [v6, v6Port] = hosts('2001:db8::1, [2001:DB8:0:0::2]:8443');
    assert.ok(hostMatches(v6, base('http://[2001:0db8:0000::1]:1')));
    assert.ok(!hostMatches(v6, base('http://[2001:db8::2]')));
    assert.ok(hostMatches(v6Port, base('https://[2001:db8::2]:8443/x')));
    assert.ok(!hostMatches(v6Port, base('https://[2001:db8::2]')));
  });
});

describe('agent hosts: which hosts registry cards may name', () => {
  it('by default: any host, but not link-local or cloud metadata addresses however they are written', () => {
    for (const url of [
      'http://localhost:8001',
      'http://127.0.0.1',
      'http://10.1.2.3',
      'https://agents.example.com',
      'http://[::1]:8000',
      'http://[fd00:ec2::253]',
      'http://169.253.1.1',
      'http://metadata.google.internal.evil',
    ]) {
      assert.ok(allowed(url), url);
    }
    for (const [url, why] of [
      [
        'http://169.254.169.254/latest/meta-data',
        /^169\.254\.169\.254:80 is the cloud metadata address 169\.254\.169\.254, refused unless PALLET_AGENT_HOSTS lists it exactly$/,
      ],
      ['http://169.254.169.254.', /cloud metadata address/],
      ['http://0xA9FEA9FE', /cloud metadata address/],
      ['http://2852039166', /cloud metadata address/],
      ['http://0251.0376.0251.0376', /cloud metadata address/],
      ['http://%31%36%39.254.169.254', /cloud metadata address/],
      ['http://[::ffff:169.254.169.254]', /cloud metadata address/],
      ['http://169.254.170.2/v2/credentials', /^169\.254\.170\.2:80 is a link-local address \(169\.254\.0\.0\/16\)/],
      ['http://[::ffff:a9fe:1]:8080', /link-local address \(169\.254/],
      ['http://[fe80::1]', /^\[fe80::1\]:80 is a link-local address \(fe80::\/10\)/],
      ['http://[FEBF::1]', /link-local address \(fe80::\/10\)/],
      ['http://[fd00:ec2::254]', /cloud metadata address \(AWS, IPv6\)/],
      ['http://[FD00:EC2:0::254]:80', /cloud metadata address \(AWS, IPv6\)/],
      ['http://metadata.google.internal', /cloud metadata address \(Google Cloud\)/],
      ['http://METADATA.Google.Internal.', /cloud metadata address \(Google Cloud\)/],
      ['http://100.100.100.200', /cloud metadata address \(Alibaba Cloud\)/],
    ] as const) {
      assert.match(refusedHost(base(url), undefined) ?? '(allowed)', why, url);
    }
    assert.ok(allowed('http://[fec0::1]'), 'fec0:: is outside fe80::/10');
    assert.equal(protectedHost('[::]'), undefined);
  });

  it('with PALLET_AGENT_HOSTS: only the listed hosts; protected ones only when listed exactly, never through a wildcard', () => {
    const list = hosts('localhost:8001, *.agents.example, 169.254.169.254:80, [fe80::1]');
    assert.ok(allowed('http://localhost:8001', list));
    assert.ok(allowed('http://plan.agents.example:9', list));
    assert.match(
      refusedHost(base('http://localhost:8002'), list)!,
      /^localhost:8002 is not allowed by PALLET_AGENT_HOSTS \(localhost:8001, \*\.agents\.example, 169\.254\.169\.254:80, \[fe80::1\]\)$/,
    );
    assert.match(refusedHost(base('http://evil.example'), list)!, /not allowed by PALLET_AGENT_HOSTS/);
    assert.ok(allowed('http://169.254.169.254', list), 'listed exactly, with its port');
    assert.ok(allowed('http://0xA9FEA9FE:80', list), 'the same address written otherwise');
    assert.match(refusedHost(base('http://169.254.169.254:8080'), list)!, /refused unless PALLET_AGENT_HOSTS lists it exactly/, 'another port is not listed');
    assert.ok(allowed('http://[FE80:0::1]:1234', list));
    assert.match(refusedHost(base('http://[fe80::2]'), list)!, /link-local/);

    for (const wildcard of ['*', '*:80', '*.google.internal', '*.internal']) {
      assert.match(refusedHost(base('http://metadata.google.internal'), hosts(wildcard)) ?? '(allowed)', /cloud metadata address/, wildcard);
      assert.match(refusedHost(base('http://169.254.169.254'), hosts(wildcard)) ?? '(allowed)', /cloud metadata address|not allowed/, wildcard);
    }
    assert.ok(allowed('http://anything.example', hosts('*')));
    assert.ok(allowed('http://metadata.google.internal', hosts('metadata.google.internal')));
  });
});
