import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRequestInfo, type RequestInfo, type ResourceRequest } from './requestinfo.ts';

/** parseRequestInfo on a request line's target, split into path and query as the server does. */
function info(method: string, target: string): RequestInfo {
  const url = new URL(target, 'https://localhost');
  return parseRequestInfo(method, url.pathname, url.searchParams);
}

/** A resource request with everything not given at its zero value. */
function res(fields: Partial<ResourceRequest>): ResourceRequest {
  return {
    kind: 'resource',
    verb: 'get',
    group: '',
    version: 'v1',
    namespace: '',
    resource: '',
    name: '',
    subresource: '',
    rest: [],
    ...fields,
  };
}

describe('parseRequestInfo: discovery', () => {
  test('/api and /apis roots', () => {
    assert.deepEqual(info('GET', '/api'), { kind: 'discovery', root: 'api' });
    assert.deepEqual(info('GET', '/apis'), { kind: 'discovery', root: 'apis' });
    assert.deepEqual(info('GET', '/api/'), { kind: 'discovery', root: 'api' });
    assert.deepEqual(info('GET', '/apis/'), { kind: 'discovery', root: 'apis' });
  });

  test('/api/v1 carries the empty group', () => {
    assert.deepEqual(info('GET', '/api/v1'), { kind: 'discovery', root: 'api', group: '', version: 'v1' });
    assert.deepEqual(info('GET', '/api/v1/'), { kind: 'discovery', root: 'api', group: '', version: 'v1' });
  });

  test('/apis/GROUP and /apis/GROUP/VERSION', () => {
    assert.deepEqual(info('GET', '/apis/apps'), { kind: 'discovery', root: 'apis', group: 'apps' });
    assert.deepEqual(info('GET', '/apis/apps/v1'), {
      kind: 'discovery',
      root: 'apis',
      group: 'apps',
      version: 'v1',
    });
    assert.deepEqual(info('GET', '/apis/apps/v1/'), {
      kind: 'discovery',
      root: 'apis',
      group: 'apps',
      version: 'v1',
    });
  });

  test('discovery does not depend on the method', () => {
    assert.deepEqual(info('POST', '/apis/apps'), { kind: 'discovery', root: 'apis', group: 'apps' });
    assert.deepEqual(info('DELETE', '/api'), { kind: 'discovery', root: 'api' });
  });
});

describe('parseRequestInfo: non-resource URLs', () => {
  test('other paths are returned as given', () => {
    for (const path of ['/healthz', '/version', '/openapi/v2', '/metrics', '/', '/livez/ping', '/apiz']) {
      assert.deepEqual(parseRequestInfo('GET', path, new URLSearchParams()), { kind: 'other', path });
    }
    assert.deepEqual(parseRequestInfo('GET', '/healthz/', new URLSearchParams()), {
      kind: 'other',
      path: '/healthz/',
    });
    assert.deepEqual(parseRequestInfo('POST', '', new URLSearchParams()), { kind: 'other', path: '' });
  });

  test('/openapi/v3/apis/apps/v1 is not an API path', () => {
    assert.deepEqual(info('GET', '/openapi/v3/apis/apps/v1'), {
      kind: 'other',
      path: '/openapi/v3/apis/apps/v1',
    });
  });
});

describe('parseRequestInfo: resources', () => {
  test('lists, cluster-wide and namespaced', () => {
    assert.deepEqual(info('GET', '/api/v1/pods'), res({ verb: 'list', resource: 'pods' }));
    assert.deepEqual(info('GET', '/api/v1/nodes'), res({ verb: 'list', resource: 'nodes' }));
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/default/pods'),
      res({ verb: 'list', namespace: 'default', resource: 'pods' }),
    );
    assert.deepEqual(
      info('GET', '/apis/apps/v1/namespaces/ns1/deployments'),
      res({ verb: 'list', group: 'apps', namespace: 'ns1', resource: 'deployments' }),
    );
    assert.deepEqual(
      info('GET', '/apis/apps/v1/deployments'),
      res({ verb: 'list', group: 'apps', resource: 'deployments' }),
    );
  });

  test('objects, cluster-scoped and namespaced', () => {
    assert.deepEqual(info('GET', '/api/v1/nodes/node-1'), res({ resource: 'nodes', name: 'node-1' }));
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/default/pods/p-1'),
      res({ namespace: 'default', resource: 'pods', name: 'p-1' }),
    );
    assert.deepEqual(
      info('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/admin'),
      res({ group: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'admin' }),
    );
    assert.deepEqual(
      info('GET', '/apis/stable.example.com/v1beta1/namespaces/x/crontabs/c'),
      res({
        group: 'stable.example.com',
        version: 'v1beta1',
        namespace: 'x',
        resource: 'crontabs',
        name: 'c',
      }),
    );
  });

  test('subresources', () => {
    assert.deepEqual(
      info('PUT', '/api/v1/namespaces/ns/pods/p/status'),
      res({ verb: 'update', namespace: 'ns', resource: 'pods', name: 'p', subresource: 'status' }),
    );
    assert.deepEqual(
      info('PATCH', '/apis/apps/v1/namespaces/ns/deployments/d/scale'),
      res({
        verb: 'patch',
        group: 'apps',
        namespace: 'ns',
        resource: 'deployments',
        name: 'd',
        subresource: 'scale',
      }),
    );
    assert.deepEqual(
      info('POST', '/api/v1/namespaces/sched-bench/pods/p-1/binding'),
      res({
        verb: 'create',
        namespace: 'sched-bench',
        resource: 'pods',
        name: 'p-1',
        subresource: 'binding',
      }),
    );
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/ns/pods/p/log?container=c&follow=true'),
      res({ namespace: 'ns', resource: 'pods', name: 'p', subresource: 'log' }),
    );
    assert.deepEqual(
      info('PUT', '/api/v1/nodes/n/status'),
      res({ verb: 'update', resource: 'nodes', name: 'n', subresource: 'status' }),
    );
  });

  test('connect subresources: exec, attach, portforward, proxy (with the trailing path)', () => {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const sub of ['exec', 'attach', 'portforward']) {
        assert.deepEqual(
          info(method, `/api/v1/namespaces/ns/pods/p/${sub}?command=ls`),
          res({ verb: 'connect', namespace: 'ns', resource: 'pods', name: 'p', subresource: sub }),
          `${method} ${sub}`,
        );
      }
    }
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/ns/pods/p:8080/proxy/a/b/index.html'),
      res({
        verb: 'connect',
        namespace: 'ns',
        resource: 'pods',
        name: 'p:8080',
        subresource: 'proxy',
        rest: ['a', 'b', 'index.html'],
      }),
    );
    assert.deepEqual(
      info('POST', '/api/v1/namespaces/ns/services/https:svc:443/proxy/'),
      res({
        verb: 'connect',
        namespace: 'ns',
        resource: 'services',
        name: 'https:svc:443',
        subresource: 'proxy',
      }),
    );
    assert.deepEqual(
      info('GET', '/api/v1/nodes/n1/proxy/metrics/cadvisor'),
      res({
        verb: 'connect',
        resource: 'nodes',
        name: 'n1',
        subresource: 'proxy',
        rest: ['metrics', 'cadvisor'],
      }),
    );
  });

  test('a trailing path after a non-connect subresource is kept in rest', () => {
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/ns/pods/p/status/extra/more'),
      res({ namespace: 'ns', resource: 'pods', name: 'p', subresource: 'status', rest: ['extra', 'more'] }),
    );
  });
});

describe('parseRequestInfo: namespaces', () => {
  test('the namespace list and the namespace object itself', () => {
    assert.deepEqual(info('GET', '/api/v1/namespaces'), res({ verb: 'list', resource: 'namespaces' }));
    assert.deepEqual(info('GET', '/api/v1/namespaces/ns1'), res({ resource: 'namespaces', name: 'ns1' }));
    assert.deepEqual(
      info('DELETE', '/api/v1/namespaces/ns1'),
      res({ verb: 'delete', resource: 'namespaces', name: 'ns1' }),
    );
    assert.deepEqual(info('POST', '/api/v1/namespaces'), res({ verb: 'create', resource: 'namespaces' }));
  });

  test("the namespace's own subresources: finalize and status", () => {
    assert.deepEqual(
      info('PUT', '/api/v1/namespaces/ns1/finalize'),
      res({ verb: 'update', resource: 'namespaces', name: 'ns1', subresource: 'finalize' }),
    );
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/ns1/status'),
      res({ resource: 'namespaces', name: 'ns1', subresource: 'status' }),
    );
    assert.deepEqual(
      info('PUT', '/api/v1/namespaces/ns1/status/x/y'),
      res({ verb: 'update', resource: 'namespaces', name: 'ns1', subresource: 'status', rest: ['x', 'y'] }),
    );
  });

  test('a resource named like a namespace subresource is still found under /namespaces/NS/', () => {
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/ns1/pods/status'),
      res({ namespace: 'ns1', resource: 'pods', name: 'status' }),
    );
  });

  test('a namespace called "namespaces"', () => {
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/namespaces/pods'),
      res({ verb: 'list', namespace: 'namespaces', resource: 'pods' }),
    );
  });
});

describe('parseRequestInfo: watch', () => {
  test('?watch=1 and ?watch=true on lists and objects', () => {
    for (const w of ['1', 'true']) {
      assert.deepEqual(
        info('GET', `/api/v1/namespaces/sched-bench/pods?watch=${w}&resourceVersion=5`),
        res({ verb: 'watch', namespace: 'sched-bench', resource: 'pods' }),
      );
      assert.deepEqual(info('GET', `/api/v1/pods?watch=${w}`), res({ verb: 'watch', resource: 'pods' }));
      assert.deepEqual(
        info('GET', `/api/v1/namespaces/ns/pods/p?watch=${w}`),
        res({ verb: 'watch', namespace: 'ns', resource: 'pods', name: 'p' }),
      );
    }
  });

  test('other watch values are not a watch', () => {
    for (const w of ['0', 'false', 'TRUE', 'yes', '']) {
      assert.deepEqual(info('GET', `/api/v1/pods?watch=${w}`), res({ verb: 'list', resource: 'pods' }), w);
    }
    // The first value counts.
    assert.deepEqual(
      info('GET', '/api/v1/pods?watch=false&watch=true'),
      res({ verb: 'list', resource: 'pods' }),
    );
    assert.deepEqual(
      info('GET', '/api/v1/pods?watch=true&watch=false'),
      res({ verb: 'watch', resource: 'pods' }),
    );
  });

  test('?watch= only matters for GET and HEAD', () => {
    assert.deepEqual(info('POST', '/api/v1/pods?watch=true'), res({ verb: 'create', resource: 'pods' }));
    assert.deepEqual(
      info('DELETE', '/api/v1/pods?watch=true'),
      res({ verb: 'deletecollection', resource: 'pods' }),
    );
    assert.deepEqual(info('HEAD', '/api/v1/pods?watch=true'), res({ verb: 'watch', resource: 'pods' }));
  });

  test('the legacy /watch/ prefix', () => {
    assert.deepEqual(info('GET', '/api/v1/watch/pods'), res({ verb: 'watch', resource: 'pods' }));
    assert.deepEqual(
      info('GET', '/api/v1/watch/namespaces/ns/pods'),
      res({ verb: 'watch', namespace: 'ns', resource: 'pods' }),
    );
    assert.deepEqual(
      info('GET', '/api/v1/watch/namespaces/ns/pods/p'),
      res({ verb: 'watch', namespace: 'ns', resource: 'pods', name: 'p' }),
    );
    assert.deepEqual(
      info('GET', '/apis/apps/v1/watch/deployments'),
      res({ verb: 'watch', group: 'apps', resource: 'deployments' }),
    );
    assert.deepEqual(info('GET', '/api/v1/watch/namespaces'), res({ verb: 'watch', resource: 'namespaces' }));
    assert.deepEqual(
      info('GET', '/api/v1/watch/namespaces/ns1'),
      res({ verb: 'watch', resource: 'namespaces', name: 'ns1' }),
    );
    assert.deepEqual(info('GET', '/api/v1/watch'), res({ verb: 'watch' }));
  });

  test('the /watch/ prefix does not change non-GET verbs', () => {
    assert.deepEqual(info('POST', '/api/v1/watch/pods'), res({ verb: 'create', resource: 'pods' }));
    assert.deepEqual(
      info('DELETE', '/api/v1/watch/pods/p'),
      res({ verb: 'delete', resource: 'pods', name: 'p' }),
    );
  });

  test('"watch" is only a prefix right after the version', () => {
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/ns/watch'),
      res({ verb: 'list', namespace: 'ns', resource: 'watch' }),
    );
    assert.deepEqual(info('GET', '/api/v1/watch/watch'), res({ verb: 'watch', resource: 'watch' }));
  });
});

describe('parseRequestInfo: verbs', () => {
  test('each method', () => {
    const obj = '/api/v1/namespaces/ns/pods/p';
    const list = '/api/v1/namespaces/ns/pods';
    const o = { namespace: 'ns', resource: 'pods', name: 'p' };
    const l = { namespace: 'ns', resource: 'pods' };
    assert.deepEqual(info('GET', obj), res({ verb: 'get', ...o }));
    assert.deepEqual(info('HEAD', obj), res({ verb: 'get', ...o }));
    assert.deepEqual(info('GET', list), res({ verb: 'list', ...l }));
    assert.deepEqual(info('HEAD', list), res({ verb: 'list', ...l }));
    assert.deepEqual(info('POST', list), res({ verb: 'create', ...l }));
    assert.deepEqual(info('POST', obj), res({ verb: 'create', ...o }));
    assert.deepEqual(info('PUT', obj), res({ verb: 'update', ...o }));
    assert.deepEqual(info('PUT', list), res({ verb: 'update', ...l }));
    assert.deepEqual(info('PATCH', obj), res({ verb: 'patch', ...o }));
    assert.deepEqual(info('PATCH', list), res({ verb: 'patch', ...l }));
    assert.deepEqual(info('DELETE', obj), res({ verb: 'delete', ...o }));
    assert.deepEqual(info('DELETE', list), res({ verb: 'deletecollection', ...l }));
    assert.deepEqual(info('OPTIONS', obj), res({ verb: 'connect', ...o }));
    assert.deepEqual(info('TRACE', list), res({ verb: 'connect', ...l }));
    // Methods are matched exactly (Node hands them upper-cased).
    assert.deepEqual(info('get', obj), res({ verb: 'connect', ...o }));
  });

  test('deletecollection on a cluster-scoped resource and in a namespace', () => {
    assert.deepEqual(info('DELETE', '/api/v1/nodes'), res({ verb: 'deletecollection', resource: 'nodes' }));
    assert.deepEqual(
      info('DELETE', '/apis/apps/v1/namespaces/ns/deployments?labelSelector=a%3Db'),
      res({ verb: 'deletecollection', group: 'apps', namespace: 'ns', resource: 'deployments' }),
    );
  });
});

describe('parseRequestInfo: segments', () => {
  test('trailing slashes and empty segments are ignored', () => {
    const want = res({ namespace: 'ns', resource: 'pods', name: 'p' });
    assert.deepEqual(info('GET', '/api/v1/namespaces/ns/pods/p/'), want);
    assert.deepEqual(info('GET', '/api/v1/namespaces/ns/pods/p//'), want);
    assert.deepEqual(info('GET', '/api//v1/namespaces//ns/pods///p'), want);
    assert.deepEqual(
      parseRequestInfo('GET', '//api//v1/namespaces//ns/pods///p', new URLSearchParams()),
      want,
    );
    assert.deepEqual(
      parseRequestInfo('GET', 'api/v1/namespaces/ns/pods/p', new URLSearchParams()),
      want,
      'no leading slash',
    );
    assert.deepEqual(info('GET', '/apis//apps/'), { kind: 'discovery', root: 'apis', group: 'apps' });
  });

  test('URL-encoded segments after the version are decoded', () => {
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/ns/configmaps/a%3Ab'),
      res({ namespace: 'ns', resource: 'configmaps', name: 'a:b' }),
    );
    assert.deepEqual(
      info('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Acontroller%3Afoo'),
      res({ group: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'system:controller:foo' }),
    );
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/n%73/pods/a%2Fb/proxy/x%20y'),
      res({
        verb: 'connect',
        namespace: 'ns',
        resource: 'pods',
        name: 'a/b',
        subresource: 'proxy',
        rest: ['x y'],
      }),
    );
    // Decoding happens before "watch" and "namespaces" are recognised.
    assert.deepEqual(info('GET', '/api/v1/w%61tch/pods'), res({ verb: 'watch', resource: 'pods' }));
    assert.deepEqual(
      info('GET', '/api/v1/n%61mespaces/ns/pods'),
      res({ verb: 'list', namespace: 'ns', resource: 'pods' }),
    );
    assert.deepEqual(
      info('GET', '/api/v1/namespaces/ns/st%61tus'),
      res({ resource: 'namespaces', name: 'ns', subresource: 'status' }),
    );
  });

  test('group and version are taken as they are', () => {
    assert.deepEqual(
      info('GET', '/apis/a%2Eb/v1/things'),
      res({ verb: 'list', group: 'a%2Eb', resource: 'things' }),
    );
  });

  test('a malformed escape throws a URIError', () => {
    assert.throws(() => info('GET', '/api/v1/namespaces/ns/pods/%zz'), URIError);
    assert.throws(() => parseRequestInfo('GET', '/api/v1/pods/%E0%A4%A', new URLSearchParams()), URIError);
  });

  test('the result does not share arrays between calls', () => {
    const a = info('GET', '/api/v1/nodes/n/proxy/x') as ResourceRequest;
    a.rest.push('mutated');
    assert.deepEqual((info('GET', '/api/v1/nodes/n/proxy/x') as ResourceRequest).rest, ['x']);
    const b = info('GET', '/api/v1/pods') as ResourceRequest;
    b.rest.push('mutated');
    assert.deepEqual((info('GET', '/api/v1/pods') as ResourceRequest).rest, []);
  });
});
