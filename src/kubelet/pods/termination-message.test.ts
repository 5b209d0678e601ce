import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ContainerStatus } from '../cri/types.ts';
import {
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
} from './container-config.ts';
import { criLogContent, terminationMessage } from './termination-message.ts';

const dir = mkdtempSync(join(tmpdir(), 'skiff-termmsg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function status(o: Partial<ContainerStatus>): ContainerStatus {
  return {
    id: 'c',
    metadata: { name: 'app', attempt: 0 },
    state: 'CONTAINER_EXITED',
    createdAt: 0,
    startedAt: 0,
    finishedAt: 0,
    exitCode: 1,
    image: { image: 'busybox' },
    imageRef: 'sha256:x',
    reason: 'Error',
    message: '',
    labels: {},
    annotations: { [ANNOTATION_TERMINATION_MESSAGE_PATH]: '/dev/termination-log' },
    mounts: [],
    logPath: '',
    ...o,
  };
}

test('reads the termination-log file through the container mount', async () => {
  const file = join(dir, 'termlog');
  writeFileSync(file, 'bye');
  const msg = await terminationMessage(
    status({ mounts: [{ containerPath: '/dev/termination-log', hostPath: file }] }),
  );
  assert.equal(msg, 'bye');
  assert.equal(await terminationMessage(status({})), '');
  // The runtime's own message comes first.
  const both = await terminationMessage(
    status({ message: 'runtime says', mounts: [{ containerPath: '/dev/termination-log', hostPath: file }] }),
  );
  assert.equal(both, 'runtime says: bye');
});

test('FallbackToLogsOnError: the tail of the log for a failed container with no message', async () => {
  const log = join(dir, '0.log');
  writeFileSync(
    log,
    '2026-01-01T00:00:00.1Z stdout F line one\n2026-01-01T00:00:00.2Z stderr P part \n2026-01-01T00:00:00.3Z stderr F two\n',
  );
  const s = status({
    logPath: log,
    annotations: { [ANNOTATION_TERMINATION_MESSAGE_POLICY]: 'FallbackToLogsOnError' },
  });
  assert.equal(await terminationMessage(s), 'line one\npart two\n');
  assert.equal(await terminationMessage({ ...s, exitCode: 0 }), '', 'not for a successful exit');
  assert.equal(criLogContent('garbage\n'), '');
});
