import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../object.ts';
import { podPrinter } from './pod.ts';
import { ago, DAY, HOUR, MINUTE, NOW, obj, SECOND } from './testing.ts';

const running = { running: { startedAt: ago(9 * MINUTE) } };
const ready = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  ready: true,
  started: true,
  restartCount: 0,
  state: running,
  ...extra,
});

function pod(
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  meta: KubeObject['metadata'] = {},
): KubeObject {
  return obj('p', 10 * MINUTE, { spec: { nodeName: 'node-1', ...spec }, status }, meta);
}

/** The five always-shown cells: NAME, READY, STATUS, RESTARTS, AGE. */
const cells = (o: KubeObject) => podPrinter.row(o, NOW).slice(0, 5);
const status = (o: KubeObject) => podPrinter.row(o, NOW)[2];

const twoContainers = { containers: [{ name: 'app' }, { name: 'sidecar' }] };
const oneContainer = { containers: [{ name: 'app' }] };

describe('pod printer', () => {
  it('has Kubernetes’ columns, the wide ones at priority 1', () => {
    assert.deepEqual(
      podPrinter.columns.map((c) => [c.name, c.type, c.priority]),
      [
        ['Name', 'string', 0],
        ['Ready', 'string', 0],
        ['Status', 'string', 0],
        ['Restarts', 'string', 0],
        ['Age', 'string', 0],
        ['IP', 'string', 1],
        ['Node', 'string', 1],
        ['Nominated Node', 'string', 1],
        ['Readiness Gates', 'string', 1],
      ],
    );
    assert.equal(podPrinter.columns[0]?.format, 'name');
  });

  it('prints a crash-looping container next to a ready one', () => {
    const p = pod(twoContainers, {
      phase: 'Running',
      podIP: '10.42.0.5',
      podIPs: [{ ip: '10.42.0.5' }],
      containerStatuses: [
        ready('app'),
        {
          name: 'sidecar',
          ready: false,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(2 * MINUTE) } },
        },
      ],
    });
    assert.deepEqual(podPrinter.row(p, NOW), [
      'p',
      '1/2',
      'CrashLoopBackOff',
      '3 (2m ago)',
      '10m',
      '10.42.0.5',
      'node-1',
      '<none>',
      '<none>',
    ]);
  });

  it('prints a running pod with no restarts', () => {
    const p = pod(oneContainer, { phase: 'Running', containerStatuses: [ready('app')] });
    assert.deepEqual(cells(p), ['p', '1/1', 'Running', '0', '10m']);
  });

  it('prints the time of the most recent restart across containers', () => {
    const p = pod(twoContainers, {
      phase: 'Running',
      containerStatuses: [
        ready('app', {
          restartCount: 2,
          lastState: { terminated: { exitCode: 1, finishedAt: ago(3 * HOUR) } },
        }),
        ready('sidecar', {
          restartCount: 1,
          lastState: { terminated: { exitCode: 1, finishedAt: ago(45 * SECOND) } },
        }),
      ],
    });
    assert.deepEqual(cells(p), ['p', '2/2', 'Running', '3 (45s ago)', '10m']);
  });

  it('prints restarts without a time when no termination was recorded', () => {
    const p = pod(oneContainer, { phase: 'Running', containerStatuses: [ready('app', { restartCount: 4 })] });
    assert.equal(podPrinter.row(p, NOW)[3], '4');
  });

  it('shows waiting reasons: ContainerCreating, ImagePullBackOff', () => {
    for (const reason of [
      'ContainerCreating',
      'ImagePullBackOff',
      'ErrImagePull',
      'CreateContainerConfigError',
    ]) {
      const p = pod(oneContainer, {
        phase: 'Pending',
        containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason } } }],
      });
      assert.deepEqual(cells(p), ['p', '0/1', reason, '0', '10m']);
    }
  });

  it('shows the phase while nothing has started', () => {
    assert.deepEqual(cells(pod(oneContainer, { phase: 'Pending' })), ['p', '0/1', 'Pending', '0', '10m']);
  });

  it('shows Completed for a succeeded pod', () => {
    const p = pod(oneContainer, {
      phase: 'Succeeded',
      containerStatuses: [
        {
          name: 'app',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 0, reason: 'Completed' } },
        },
      ],
    });
    assert.deepEqual(cells(p), ['p', '0/1', 'Completed', '0', '10m']);
  });

  it('shows Error, OOMKilled, and ExitCode/Signal when the runtime gave no reason', () => {
    const terminated = (t: Record<string, unknown>) =>
      pod(oneContainer, {
        phase: 'Failed',
        containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { terminated: t } }],
      });
    assert.equal(status(terminated({ exitCode: 1, reason: 'Error' })), 'Error');
    assert.equal(status(terminated({ exitCode: 137, reason: 'OOMKilled' })), 'OOMKilled');
    assert.equal(status(terminated({ exitCode: 137 })), 'ExitCode:137');
    assert.equal(status(terminated({ exitCode: 0, signal: 9 })), 'Signal:9');
  });

  it('shows Running (or NotReady) when a container completed but another still runs', () => {
    const containers = [
      {
        name: 'job',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      },
      ready('server'),
    ];
    const p = (readyCondition: string) =>
      pod(twoContainers, {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: readyCondition }],
        containerStatuses: containers,
      });
    assert.deepEqual(cells(p('True')), ['p', '1/2', 'Running', '0', '10m']);
    assert.equal(status(p('False')), 'NotReady');
  });

  describe('init containers', () => {
    const spec = { initContainers: [{ name: 'init-a' }, { name: 'init-b' }], containers: [{ name: 'app' }] };
    const waitingInit = {
      name: 'app',
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'PodInitializing' } },
    };
    const done = {
      name: 'init-a',
      ready: true,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    };

    it('shows Init:N/M while an init container runs', () => {
      const p = pod(spec, {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'init-a', ready: false, restartCount: 0, state: { running: {} } },
          {
            name: 'init-b',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'PodInitializing' } },
          },
        ],
        containerStatuses: [waitingInit],
      });
      assert.deepEqual(cells(p), ['p', '0/1', 'Init:0/2', '0', '10m']);
      const second = pod(spec, {
        phase: 'Pending',
        initContainerStatuses: [
          done,
          { name: 'init-b', ready: false, restartCount: 0, state: { running: {} } },
        ],
        containerStatuses: [waitingInit],
      });
      assert.equal(status(second), 'Init:1/2');
    });

    it('shows Init:<reason> for a failing init container, with its restarts', () => {
      const p = pod(spec, {
        phase: 'Pending',
        initContainerStatuses: [
          {
            name: 'init-a',
            ready: false,
            restartCount: 5,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(30 * SECOND) } },
          },
          {
            name: 'init-b',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'PodInitializing' } },
          },
        ],
        containerStatuses: [waitingInit],
      });
      assert.deepEqual(cells(p), ['p', '0/1', 'Init:CrashLoopBackOff', '5 (30s ago)', '10m']);
    });

    it('shows Init:Error, Init:ExitCode:N and Init:Signal:N for a terminated init container', () => {
      const failed = (t: Record<string, unknown>) =>
        pod(spec, {
          phase: 'Failed',
          initContainerStatuses: [
            { name: 'init-a', ready: false, restartCount: 0, state: { terminated: t } },
          ],
          containerStatuses: [waitingInit],
        });
      assert.equal(status(failed({ exitCode: 1, reason: 'Error' })), 'Init:Error');
      assert.equal(status(failed({ exitCode: 2 })), 'Init:ExitCode:2');
      assert.equal(status(failed({ exitCode: 143, signal: 15 })), 'Init:Signal:15');
    });

    it('shows PodInitializing once init containers are done', () => {
      const p = pod(spec, {
        phase: 'Pending',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [done, { ...done, name: 'init-b' }],
        containerStatuses: [waitingInit],
      });
      assert.deepEqual(cells(p), ['p', '0/1', 'PodInitializing', '0', '10m']);
    });

    it('counts sidecars (restartPolicy Always) as containers', () => {
      const p = pod(
        { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] },
        {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [
            ready('proxy', {
              restartCount: 2,
              lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * MINUTE) } },
            }),
          ],
          containerStatuses: [ready('app', { restartCount: 1 })],
        },
      );
      assert.deepEqual(cells(p), ['p', '2/2', 'Running', '3 (5m ago)', '10m']);
    });
  });

  it('shows Terminating for a pod being deleted, Unknown for a lost node’s pod', () => {
    const running1 = { phase: 'Running', containerStatuses: [ready('app')] };
    assert.equal(status(pod(oneContainer, running1, { deletionTimestamp: ago(5 * SECOND) })), 'Terminating');
    const lost = { ...running1, reason: 'NodeLost' };
    assert.equal(status(pod(oneContainer, lost, { deletionTimestamp: ago(5 * SECOND) })), 'Unknown');
    assert.equal(status(pod(oneContainer, lost)), 'NodeLost');
    // A pod that already finished keeps its terminal status while being deleted.
    const finished = pod(
      oneContainer,
      {
        phase: 'Succeeded',
        containerStatuses: [
          { name: 'app', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      },
      { deletionTimestamp: ago(5 * SECOND) },
    );
    assert.equal(status(finished), 'Completed');
  });

  it('shows Evicted and other pod-level reasons', () => {
    assert.equal(status(pod(oneContainer, { phase: 'Failed', reason: 'Evicted' })), 'Evicted');
  });

  it('shows SchedulingGated', () => {
    const p = pod(
      { containers: [{ name: 'app' }], nodeName: undefined },
      {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
      },
    );
    assert.deepEqual(podPrinter.row(p, NOW), [
      'p',
      '0/1',
      'SchedulingGated',
      '0',
      '10m',
      '<none>',
      '<none>',
      '<none>',
      '<none>',
    ]);
  });

  it('prints the wide cells: pod IP, node, nominated node, readiness gates', () => {
    const p = pod(
      {
        containers: [{ name: 'app' }],
        readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }],
      },
      {
        phase: 'Running',
        podIPs: [{ ip: 'fd00::5' }, { ip: '10.0.0.5' }],
        nominatedNodeName: 'node-2',
        conditions: [
          { type: 'example.com/lb', status: 'True' },
          { type: 'example.com/dns', status: 'False' },
        ],
        containerStatuses: [ready('app')],
      },
    );
    assert.deepEqual(podPrinter.row(p, NOW).slice(5), ['fd00::5', 'node-1', 'node-2', '1/2']);
  });

  it('reads an empty or malformed pod without throwing', () => {
    assert.deepEqual(podPrinter.row({ metadata: {} }, NOW), [
      '',
      '0/0',
      '',
      '0',
      '<unknown>',
      '<none>',
      '<none>',
      '<none>',
      '<none>',
    ]);
    const junk = {
      metadata: { name: 'x' },
      spec: 'nope',
      status: { containerStatuses: [null, 3, { state: 7 }] },
    };
    assert.equal(podPrinter.row(junk as unknown as KubeObject, NOW).length, 9);
  });

  it('prints ages the way kubectl does', () => {
    assert.equal(
      podPrinter.row(obj('old', 3 * DAY + 4 * HOUR, { status: { phase: 'Running' } }), NOW)[4],
      '3d4h',
    );
  });
});
