/**
 * Three hosts (network namespaces skiffmh1..3 on a bridge skiffmh0, see test/helpers/hosts.ts), one
 * `skiff agent` with its own containerd on each, joined to a `skiff server` in the root namespace —
 * issue 6's multi-host story, with real kubectl: nodes Ready; pods on different hosts reach each
 * other by pod IP without NAT and reach the outside through masquerade; a Service answers by
 * ClusterIP from pods on every host and from every host, by NodePort through another host, and by
 * DNS name (the server's cluster DNS behind kube-dns); endpoints follow readiness, deletion and
 * scaling; a crashed host (agent and containerd SIGKILLed) turns NotReady and its pods come back on
 * the other hosts, still reachable through the Service; a deleted Node's routes disappear from the
 * other hosts; `skiff uninstall` leaves every host without routes, rules or bridge.
 *
 * Pod IPs and response bodies are checked, not just exit codes. Everything is removed afterwards
 * (agents stopped, `skiff uninstall` in each host, namespaces, veths, bridge, rules, dirs).
 *
 * Needs (besides root and containerd) the working tree's src/kubelet/kubelet.ts `cniIpMasq` option
 * (pod → pod is not NATed only with the bridge plugin's masquerade off) and uninstallNode calling
 * the pod network's clean-up (the last step).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { cidrContains } from '../../src/network/rules.ts';
import { TestCluster } from '../helpers/cluster.ts';
import { type Host, sh, TestHosts } from '../helpers/hosts.ts';

const CAN_RUN =
  process.getuid?.() === 0 &&
  existsSync('/usr/bin/containerd') &&
  existsSync('/usr/sbin/runc') &&
  existsSync('/usr/bin/nsenter') &&
  existsSync('/usr/bin/busybox');
const skip = CAN_RUN ? false : 'needs root, containerd, runc, nsenter and busybox (scripts/setup.sh)';

const CLUSTER_CIDR = '10.124.0.0/16';
const SERVICE_CIDR = '10.125.0.0/16';
const SUBNET = '10.123.0';
const IMAGE = 'skiff.local/busybox:stable';
const NS = 'mh';
const DNS_PORT = 10153;
/** kube-dns: the tenth address of the service CIDR. */
const DNS_IP = '10.125.0.10';

interface PodInfo {
  name: string;
  node: string;
  ip: string;
  ready: boolean;
  deleting: boolean;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** busybox httpd serving its pod name at / and the client's address at /cgi-bin/ip. */
const WEB = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule,
         nodeTaintsPolicy: Honor, labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: httpd
        image: ${IMAGE}
        command: [sh, -c, 'mkdir -p /www/cgi-bin && echo "$HOSTNAME" > /www/index.html && printf "#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho \\$REMOTE_ADDR\\n" > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 8080 -h /www']
        ports: [{containerPort: 8080}]
        readinessProbe:
          exec: {command: [sh, -c, 'test ! -e /tmp/unready && printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 1 127.0.0.1 8080 | grep -q "200 OK"']}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-np, namespace: ${NS}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

/** An address as busybox httpd reports it (`[::ffff:10.1.2.3]` on a dual-stack socket) → IPv4. */
const v4 = (addr: string) =>
  addr
    .trim()
    .replace(/^\[|\]$/g, '')
    .replace(/^::ffff:/, '');

describe('three hosts in network namespaces', { skip, timeout: 6 * 60_000 }, () => {
  let hosts: TestHosts;
  let cluster: TestCluster;
  let echo: Server;
  let echoPort = 0;
  let clusterIP = '';
  let nodePort = 0;
  let podCIDR: Record<string, string> = {};

  const kubectl = (args: string[], input?: string) =>
    cluster.kubectlOk(args, input === undefined ? {} : { input });
  const hostOf = (nodeName: string): Host => hosts.hosts.find((h) => h.nodeName === nodeName)!;
  const pods = async (): Promise<PodInfo[]> => {
    const list = JSON.parse(await kubectl(['get', 'pods', '-n', NS, '-l', 'app=web', '-o', 'json'])) as {
      items: {
        metadata: { name: string; deletionTimestamp?: string };
        spec: { nodeName?: string };
        status: { podIP?: string; conditions?: { type: string; status: string }[] };
      }[];
    };
    return list.items.map((p) => ({
      name: p.metadata.name,
      node: p.spec.nodeName ?? '',
      ip: p.status.podIP ?? '',
      ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      deleting: !!p.metadata.deletionTimestamp,
    }));
  };
  const readyPods = async (n: number, not?: (p: PodInfo) => boolean) =>
    until(
      `${n} ready web pods`,
      async () => {
        const all = await pods();
        const ready = all.filter((p) => p.ready && !p.deleting && !(not?.(p) ?? false));
        const live = all.filter((p) => !p.deleting);
        return ready.length === n && live.length === n ? ready : undefined;
      },
      90_000,
    );
  /** skiff's routes (proto 250) in a host's namespace, as `dst via gateway`, sorted. */
  const podRoutes = async (h: Host): Promise<string[]> => {
    const r = await hosts.run(h, 'ip', ['-j', 'route', 'show', 'proto', '250']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout || '[]') as { dst: string; gateway: string }[])
      .map((x) => `${x.dst} via ${x.gateway}`)
      .sort();
  };
  /** The endpoint IPs of Service web that are ready, sorted. */
  const endpointIPs = async (): Promise<string[]> => {
    const slices = JSON.parse(
      await kubectl([
        'get',
        'endpointslices',
        '-n',
        NS,
        '-l',
        'kubernetes.io/service-name=web',
        '-o',
        'json',
      ]),
    ) as { items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[] };
    return slices.items
      .flatMap((s) => s.endpoints ?? [])
      .filter((e) => e.conditions?.ready !== false)
      .flatMap((e) => e.addresses)
      .sort();
  };
  /** Waits until the ready endpoints satisfy `want` (the last ones seen are in the timeout's message). */
  const waitEndpoints = (what: string, want: (ips: string[]) => boolean) =>
    until(what, async () => {
      const ips = await endpointIPs();
      if (want(ips)) return true;
      throw new Error(`ready endpoints: [${ips.join(', ')}]`);
    });
  const sameIPs = (pods: PodInfo[]) => (ips: string[]) =>
    JSON.stringify(ips) === JSON.stringify(pods.map((p) => p.ip).sort());

  const execIn = (pod: string, script: string) => kubectl(['exec', '-n', NS, pod, '--', 'sh', '-c', script]);
  /**
   * `n` GETs of http://ip:port/path from inside a pod (one kubectl exec), one body line (or FAIL) per
   * request. busybox-static's wget crashes (SIGSEGV) in these images, so HTTP/1.0 goes over nc.
   */
  const getsFromPod = async (pod: string, ip: string, port: number, path: string, n: number) =>
    (
      await execIn(
        pod,
        `for i in $(seq 1 ${n}); do b=$(printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} ${port} | tail -n 1); echo "\${b:-FAIL}"; done`,
      )
    )
      .trim()
      .split('\n');
  const getFromPod = async (pod: string, ip: string, port: number, path = '/') =>
    (await getsFromPod(pod, ip, port, path, 1))[0]!;
  /** The same from a host's network namespace (the machine's curl). */
  const getsFromHost = async (h: Host, url: string, n: number) => {
    const r = await hosts.run(h, 'sh', [
      '-c',
      `for i in $(seq 1 ${n}); do curl -s -m 3 ${url} || echo FAIL; done`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n');
  };

  /** The scenario builds on itself: once a step failed, the later ones are skipped, not timed out. */
  let failed = '';
  const step = (name: string, fn: () => Promise<void>) =>
    test(name, async (t) => {
      if (failed) return t.skip(`an earlier step failed: ${failed}`);
      try {
        await fn();
      } catch (err) {
        failed = name;
        const state = await cluster
          .kubectl(['get', 'pods,events', '-n', NS, '-o', 'wide'])
          .then((r) => r.stdout + r.stderr)
          .catch(() => '');
        const pick = (text: string, re: RegExp) =>
          text
            .split('\n')
            .filter((l) => re.test(l))
            .slice(-20)
            .join('\n');
        throw new Error(
          [
            (err as Error).message,
            `--- ${NS} ---`,
            state,
            '--- server: node health ---',
            pick(cluster.logs, /taint|Unknown|[Nn]ot ?[Rr]eady|stopped posting/),
            ...hosts.hosts.map((h) => `--- ${h.name} ---\n${pick(h.log, /"level":[45]0|Ready|ready/)}`),
          ].join('\n'),
          { cause: err },
        );
      }
    });

  before(async () => {
    hosts = await TestHosts.create({ prefix: 'skiffmh', subnet: SUBNET, count: 3 });
    try {
      cluster = await TestCluster.start([
        '--bind-address',
        '0.0.0.0',
        '--tls-san',
        hosts.gateway,
        '--cluster-cidr',
        CLUSTER_CIDR,
        '--service-cidr',
        SERVICE_CIDR,
        // Twice the kubelet's lease renewal interval (10 s): with 10 s, a renewal a moment late on
        // this loaded machine marks a healthy node NotReady and evicts its pods.
        '--node-monitor-grace-period',
        '20s',
        '--default-unreachable-toleration-seconds',
        '5',
        // A node registers NotReady and the node lifecycle controller may taint it
        // not-ready:NoExecute a moment after it turned Ready, removing the taint only at its next
        // pass (~5 s): pods placed meanwhile would be evicted with a 5 s toleration. A crashed host
        // goes Unknown (unreachable), so only that toleration needs to be short.
        '--default-not-ready-toleration-seconds',
        '60',
        // The server runs no node: its address on the hosts' bridge is where agents' kube-proxies
        // send kube-dns and kubernetes Service traffic. A DNS port of the test's own (10053 may be
        // another test's).
        '--node-ip',
        hosts.gateway,
        '--dns-port',
        String(DNS_PORT),
        '--dns-metrics-port',
        '0',
      ]);
      const port = new URL(cluster.server).port;
      const token = readFileSync(`${cluster.dataDir}/token`, 'utf8').trim();
      for (const h of hosts.hosts) {
        hosts.startAgent(h, [
          '--server',
          `https://${hosts.gateway}:${port}`,
          '--token',
          token,
          '--cluster-cidr',
          CLUSTER_CIDR,
        ]);
      }
      // Something outside the cluster: echoes the address a request came from.
      echo = createServer((req, res) => res.end(v4(req.socket.remoteAddress ?? '')));
      await new Promise<void>((r) => echo.listen(0, hosts.gateway, r));
      echoPort = (echo.address() as AddressInfo).port;
    } catch (err) {
      await hosts.destroy();
      await cluster?.stop();
      throw err;
    }
  });

  after(async () => {
    echo?.close();
    const problems = await hosts?.destroy();
    if (problems?.length) process.stderr.write(`multihost clean-up:\n${problems.join('\n')}\n`);
    await cluster?.stop();
    const left = (await sh('ip', ['-o', 'link', 'show'])).stdout.split('\n').filter((l) => /skiffmh/.test(l));
    const ns = (await sh('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => /skiffmh/.test(l));
    if (left.length || ns.length)
      process.stderr.write(`multihost left behind:\n${[...left, ...ns].join('\n')}\n`);
  });

  step('three agents join and turn Ready, each routing to the others’ pod CIDRs', async () => {
    await until(
      'three nodes registered',
      async () =>
        (await kubectl(['get', 'nodes', '-o', 'name'])).trim().split('\n').length === 3 || undefined,
      90_000,
    ).catch((err) => {
      throw new Error(
        `${(err as Error).message}\n${hosts.hosts.map((h) => `${h.name}:\n${h.log.slice(-3000)}`).join('\n')}`,
      );
    });
    await kubectl(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=90s']);
    const nodes = JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])).items as {
      metadata: { name: string };
      spec: { podCIDR: string };
      status: { addresses: { type: string; address: string }[] };
    }[];
    assert.deepEqual(
      nodes.map((n) => n.metadata.name).sort(),
      hosts.hosts.map((h) => h.nodeName),
    );
    podCIDR = Object.fromEntries(nodes.map((n) => [n.metadata.name, n.spec.podCIDR]));
    assert.equal(new Set(Object.values(podCIDR)).size, 3, 'a pod CIDR per node');
    for (const n of nodes) {
      assert.ok(cidrContains(CLUSTER_CIDR, n.spec.podCIDR), n.spec.podCIDR);
      const ip = n.status.addresses.find((a) => a.type === 'InternalIP')?.address;
      assert.equal(ip, hostOf(n.metadata.name).ip);
    }
    for (const h of hosts.hosts) {
      const want = hosts.hosts
        .filter((o) => o !== h)
        .map((o) => `${podCIDR[o.nodeName]} via ${o.ip}`)
        .sort();
      await until(`the routes on ${h.name}`, async () => {
        const got = await podRoutes(h);
        if (JSON.stringify(got) === JSON.stringify(want)) return true;
        throw new Error(`routes: ${got.join(', ')}`);
      });
    }
  });

  step(
    'pods on different hosts reach each other by pod IP, without NAT; the outside through masquerade',
    async () => {
      await kubectl(['create', 'namespace', NS]);
      await until(
        'the default service account',
        async () =>
          (await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', NS])).code === 0 || undefined,
      );
      await kubectl(['apply', '-f', '-'], WEB);
      const ready = await readyPods(6);
      const byNode = new Map<string, PodInfo[]>();
      for (const p of ready) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
      assert.deepEqual(
        [...byNode.keys()].sort(),
        hosts.hosts.map((h) => h.nodeName),
        'spread over the three hosts',
      );
      for (const p of ready)
        assert.ok(cidrContains(podCIDR[p.node]!, p.ip), `${p.name} ${p.ip} in ${podCIDR[p.node]}`);

      // From one pod on each host to one pod on every other host: the body is the target's name and
      // the target saw the client's own pod IP.
      for (const [node, [client]] of byNode) {
        for (const [other, [server]] of byNode) {
          if (other === node) continue;
          const body = await getFromPod(client!.name, server!.ip, 8080);
          assert.equal(body, server!.name, `${client!.name} → ${server!.name}`);
          const seen = await getFromPod(client!.name, server!.ip, 8080, '/cgi-bin/ip');
          assert.equal(v4(seen), client!.ip, `${client!.name} → ${server!.name} is not NATed`);
        }
        // Outside the cluster: masqueraded to the host's address.
        const out = await getFromPod(client!.name, hosts.gateway, echoPort);
        assert.equal(out, hostOf(node).ip, `${client!.name} → outside is masqueraded`);
      }
    },
  );

  step(
    'the Service answers by ClusterIP from pods on every host and from every host, and by NodePort',
    async () => {
      clusterIP = (await kubectl(['get', 'svc', '-n', NS, 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
      assert.ok(cidrContains(SERVICE_CIDR, clusterIP), clusterIP);
      nodePort = Number(
        await kubectl(['get', 'svc', '-n', NS, 'web-np', '-o', 'jsonpath={.spec.ports[0].nodePort}']),
      );
      const ready = await readyPods(6);
      const names = new Set(ready.map((p) => p.name));
      await waitEndpoints('the six pods as endpoints', sameIPs(ready));
      for (const h of hosts.hosts) {
        const client = ready.find((p) => p.node === h.nodeName)!;
        const bodies = await getsFromPod(client.name, clusterIP, 80, '/', 12);
        for (const b of bodies)
          assert.ok(names.has(b), `${client.name} via ClusterIP got ${JSON.stringify(b)}`);
        assert.ok(new Set(bodies).size >= 2, `balanced over several pods: ${bodies.join(',')}`);
        const fromHost = await getsFromHost(h, `http://${clusterIP}/`, 6);
        for (const b of fromHost) assert.ok(names.has(b), `${h.name} via ClusterIP got ${JSON.stringify(b)}`);
        // NodePort through the next host's address.
        const other = hosts.hosts[h.index % hosts.hosts.length]!;
        const viaNodePort = await getsFromHost(h, `http://${other.ip}:${nodePort}/`, 6);
        for (const b of viaNodePort)
          assert.ok(names.has(b), `${h.name} → ${other.ip}:${nodePort} got ${JSON.stringify(b)}`);
      }
    },
  );

  step('Services by DNS name from pods on every host', async () => {
    const ready = await readyPods(6);
    for (const h of hosts.hosts) {
      const client = ready.find((p) => p.node === h.nodeName)!;
      const conf = await execIn(client.name, 'cat /etc/resolv.conf');
      assert.match(conf, new RegExp(`^nameserver ${DNS_IP.replaceAll('.', '\\.')}$`, 'm'), conf);
      assert.match(conf, new RegExp(`^search ${NS}\\.svc\\.cluster\\.local `, 'm'), conf);
      // busybox's own resolver (nslookup), through kube-proxy's DNAT to the server on the bridge.
      const out = await execIn(client.name, `nslookup web.${NS}.svc.cluster.local`);
      const answer = out.slice(out.indexOf('Name:'));
      assert.match(answer, new RegExp(`Address: ${clusterIP.replaceAll('.', '\\.')}$`, 'm'), out);
      const body = await getFromPod(client.name, clusterIP, 80);
      assert.ok(
        ready.some((p) => p.name === body),
        `${client.name} via web.${NS}: ${body}`,
      );
      // A pod's own record: <ip-with-dashes>.<ns>.pod.cluster.local.
      const other = ready.find((p) => p.node !== h.nodeName)!;
      const pod = await execIn(
        client.name,
        `nslookup ${other.ip.replaceAll('.', '-')}.${NS}.pod.cluster.local`,
      );
      assert.match(
        pod.slice(pod.indexOf('Name:')),
        new RegExp(`Address: ${other.ip.replaceAll('.', '\\.')}$`, 'm'),
        pod,
      );
    }
  });

  step(
    'endpoints follow readiness, deletion and scaling; the Service answers from the remaining pods only',
    async () => {
      const ready = await readyPods(6);
      const client = ready.find((p) => p.node === hosts.hosts[0]!.nodeName)!;
      // Readiness flip: a pod on another host turns unready and leaves the endpoints.
      const unready = ready.find((p) => p.node !== client.node)!;
      await execIn(unready.name, 'touch /tmp/unready');
      await waitEndpoints('the unready pod out of the endpoints', (ips) => !ips.includes(unready.ip));
      let bodies = await getsFromPod(client.name, clusterIP, 80, '/', 15);
      assert.ok(!bodies.includes(unready.name), `an unready pod answered: ${bodies.join(',')}`);
      for (const b of bodies)
        assert.ok(
          ready.some((p) => p.name === b),
          b,
        );
      await execIn(unready.name, 'rm /tmp/unready');
      await waitEndpoints('the pod back in the endpoints', (ips) => ips.includes(unready.ip));

      // Deletion: the deleted pod leaves, its replacement joins.
      const victim = ready.find((p) => p.node !== client.node && p.name !== unready.name)!;
      await kubectl(['delete', 'pod', '-n', NS, victim.name, '--wait=false']);
      const after = await readyPods(6);
      assert.ok(!after.some((p) => p.name === victim.name));
      await waitEndpoints('endpoints = the ready pods', sameIPs(after));
      bodies = await getsFromPod(client.name, clusterIP, 80, '/', 15);
      for (const b of bodies)
        assert.ok(
          after.some((p) => p.name === b),
          `${b} is not a live pod`,
        );

      // Scale down to 3 (the client pod may go: pick a new one), then back to 6.
      await kubectl(['scale', 'deployment', '-n', NS, 'web', '--replicas=3']);
      const three = await readyPods(3);
      await waitEndpoints('three endpoints', sameIPs(three));
      bodies = await getsFromPod(three[0]!.name, clusterIP, 80, '/', 15);
      for (const b of bodies)
        assert.ok(
          three.some((p) => p.name === b),
          `${b} is not one of the three`,
        );
      await kubectl(['scale', 'deployment', '-n', NS, 'web', '--replicas=6']);
      await readyPods(6);
    },
  );

  step(
    'a crashed host turns NotReady; its pods come back on the other hosts, reachable through the Service',
    async () => {
      const before = await readyPods(6);
      const dead = hosts.hosts[2]!;
      const gone = before.filter((p) => p.node === dead.nodeName);
      assert.ok(gone.length > 0, 'the host to crash runs web pods');
      await hosts.crash(dead);
      await until(
        `${dead.nodeName} NotReady`,
        async () => {
          const node = JSON.parse(await kubectl(['get', 'node', dead.nodeName, '-o', 'json']));
          const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
          return ready?.status !== 'True' || undefined;
        },
        45_000,
      );
      const survivors = await readyPods(6, (p) => p.node === dead.nodeName);
      for (const p of survivors) {
        assert.notEqual(p.node, dead.nodeName);
        assert.ok(cidrContains(podCIDR[p.node]!, p.ip), `${p.name} ${p.ip} in ${podCIDR[p.node]}`);
      }
      for (const p of gone) assert.ok(!survivors.some((s) => s.name === p.name));
      await waitEndpoints('endpoints = the pods on the live hosts', sameIPs(survivors));
      const names = new Set(survivors.map((p) => p.name));
      for (const h of hosts.hosts.filter((x) => x !== dead)) {
        const client = survivors.find((p) => p.node === h.nodeName)!;
        for (const b of await getsFromPod(client.name, clusterIP, 80, '/', 12))
          assert.ok(names.has(b), `${client.name} via ClusterIP got ${JSON.stringify(b)}`);
        for (const b of await getsFromHost(h, `http://${clusterIP}/`, 6))
          assert.ok(names.has(b), `${h.name} via ClusterIP got ${JSON.stringify(b)}`);
      }
    },
  );

  step('a node that leaves loses its routes on every other host', async () => {
    const gone = hosts.hosts[2]!;
    await kubectl(['delete', 'node', gone.nodeName, '--wait=false']);
    for (const h of hosts.hosts.filter((x) => x !== gone)) {
      const want = hosts.hosts
        .filter((o) => o !== h && o !== gone)
        .map((o) => `${podCIDR[o.nodeName]} via ${o.ip}`);
      await until(`${h.name} without a route to ${gone.nodeName}`, async () => {
        const got = await podRoutes(h);
        if (JSON.stringify(got) === JSON.stringify(want)) return true;
        throw new Error(`routes: ${got.join(', ')}`);
      });
    }
  });

  step('skiff uninstall removes what each node made, the pod network included', async () => {
    for (const h of hosts.hosts) {
      await hosts.stopAgent(h);
      const r = await hosts.uninstall(h);
      assert.equal(r.code, 0, `${h.name}: ${r.stdout}${r.stderr.slice(-3000)}`);
      assert.deepEqual(await podRoutes(h), [], `${h.name} keeps no route`);
      const rules = await hosts.run(h, 'iptables-save', []);
      assert.doesNotMatch(rules.stdout, /SKIFFNET-|SKIFF-|CNI-/, `${h.name} keeps no rule`);
      assert.notEqual(
        (await hosts.run(h, 'ip', ['link', 'show', 'cni0'])).code,
        0,
        `${h.name} keeps no bridge`,
      );
      assert.ok(!existsSync(h.dataDir), `${h.dataDir} removed`);
    }
  });
});
