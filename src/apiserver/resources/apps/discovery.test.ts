import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIP } from './discovery.ts';
import { create, edit, type Loose, update } from './testing.ts';

const ES = 'discovery.k8s.io/endpointslices';

function slice(extra: Record<string, unknown> = {}) {
  return {
    metadata: { name: 'web-abc' },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true }, nodeName: 'node-1' }],
    ports: [{ port: 80 }],
    ...extra,
  };
}

describe('EndpointSlice', () => {
  it('defaults port name and protocol', () => {
    const { obj, errors } = create(ES, slice());
    assert.deepEqual(errors, []);
    assert.deepEqual((obj as Loose).ports, [{ port: 80, name: '', protocol: 'TCP' }]);
  });

  it('requires a known addressType', () => {
    assert.deepEqual(create(ES, slice({ addressType: undefined })).errors, ['addressType: Required value']);
    assert.deepEqual(create(ES, slice({ addressType: 'IPX' })).errors, [
      'addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"',
    ]);
  });

  it('checks addresses by type', () => {
    assert.deepEqual(create(ES, slice({ endpoints: [{ addresses: [] }] })).errors, [
      'endpoints[0].addresses: Required value: must contain at least 1 address',
    ]);
    assert.deepEqual(
      create(ES, slice({ endpoints: [{ addresses: ['fd00::1', '127.0.0.1', '0.0.0.0'] }] })).errors,
      [
        'endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
        'endpoints[0].addresses[1]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
        'endpoints[0].addresses[2]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)',
      ],
    );
    assert.deepEqual(
      create(ES, slice({ addressType: 'IPv6', endpoints: [{ addresses: ['10.0.0.1', 'fe80::1'] }] })).errors,
      [
        'endpoints[0].addresses[0]: Invalid value: "10.0.0.1": must be a valid IPv6 address',
        'endpoints[0].addresses[1]: Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      ],
    );
    assert.deepEqual(
      create(ES, slice({ addressType: 'FQDN', endpoints: [{ addresses: ['example.com', 'localhost'] }] }))
        .errors,
      [
        'endpoints[0].addresses[1]: Invalid value: "localhost": should be a domain with at least two segments separated by dots',
      ],
    );
  });

  it('checks node names, hostnames and zone hints', () => {
    const endpoints = [
      {
        addresses: ['10.0.0.1'],
        nodeName: 'Node_1',
        hostname: 'a.b',
        hints: { forZones: [{ name: 'z' }, { name: 'z' }] },
      },
    ];
    const errors = create(ES, slice({ endpoints })).errors;
    assert.equal(errors.length, 3);
    assert.match(
      errors[0] ?? '',
      /^endpoints\[0\]\.nodeName: Invalid value: "Node_1": a lowercase RFC 1123 subdomain/,
    );
    assert.equal(errors[1], 'endpoints[0].hostname: Invalid value: "a.b": must not contain dots');
    assert.equal(errors[2], 'endpoints[0].hints.forZones[1].name: Duplicate value: "z"');
  });

  it('checks ports', () => {
    const ports = [
      { name: 'http', protocol: 'TCP' },
      { name: 'http', protocol: 'ICMP' },
      { name: 'Bad_Name', appProtocol: 'a/b/c' },
    ];
    const errors = create(ES, slice({ ports })).errors;
    assert.equal(errors[0], 'ports[1].name: Duplicate value: "http"');
    assert.equal(
      errors[1],
      'ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    );
    assert.match(errors[2] ?? '', /^ports\[2\]\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label/);
    assert.match(errors[3] ?? '', /^ports\[2\]\.appProtocol: Invalid value: "a\/b\/c": a valid label key/);
  });

  it('makes addressType immutable and does not re-check unchanged endpoints', () => {
    const base = create(ES, slice()).obj;
    assert.deepEqual(
      update(
        ES,
        base,
        edit(base, (x) => {
          x.addressType = 'IPv6';
        }),
      ).errors.at(-1),
      'addressType: Invalid value: "IPv6": field is immutable',
    );
    const grandfathered = edit(base, (x) => {
      x.endpoints[0].addresses = ['127.0.0.1'];
    });
    assert.deepEqual(
      update(
        ES,
        grandfathered,
        edit(grandfathered, (x) => {
          x.metadata.labels = { a: 'b' };
        }),
      ).errors,
      [],
    );
  });
});

describe('parseIP (Go net.ParseIP)', () => {
  it('parses IPv4, IPv6 and IPv4-mapped IPv6', () => {
    assert.equal(parseIP('10.1.2.3')?.v4, true);
    assert.equal(parseIP('::ffff:10.1.2.3')?.v4, true);
    assert.equal(parseIP('2001:db8::1')?.v4, false);
    assert.equal(parseIP('::')?.v4, false);
    for (const bad of ['10.1.2', '256.1.1.1', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'x'])
      assert.equal(parseIP(bad), undefined, bad);
  });
});
