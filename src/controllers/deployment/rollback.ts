/**
 * Server-side rollback (pkg/controller/deployment/rollback.go), for the deprecated
 * extensions/v1beta1 spec.rollbackTo that apps/v1 keeps as the annotation
 * deprecated.deployment.rollback.to: the Deployment takes the template (and annotations) of the
 * ReplicaSet of that revision (0: the previous one), and the annotation is cleared. kubectl today
 * rolls back client-side instead (see kubectl.ts).
 */
import { DEPLOYMENTS } from '../../client/resources.ts';
import {
  equalIgnoreHash,
  lastRevision,
  revisionOf,
  setDeploymentAnnotationsTo,
  withoutHash,
} from './revision.ts';
import {
  type DeploymentEnv,
  getAllReplicaSetsAndSyncRevision,
  getRollbackTo,
  type SyncPass,
  writeDeployment,
} from './sync.ts';
import {
  REASON_ROLLBACK_DONE,
  REASON_ROLLBACK_NOT_FOUND,
  REASON_ROLLBACK_UNCHANGED,
  ROLLBACK_TO_ANNOTATION,
} from './types.ts';

export async function rollback(env: DeploymentEnv, pass: SyncPass): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(env, pass, true);
  const allRSs = [...oldRSs, ...(newRS ? [newRS] : [])].map((rs) => pass.current(rs));
  let revision = getRollbackTo(pass.d) ?? 0;
  if (revision === 0) {
    revision = lastRevision(allRSs);
    if (revision === 0) {
      env.events.event(
        DEPLOYMENTS,
        pass.d,
        'Warning',
        REASON_ROLLBACK_NOT_FOUND,
        'Unable to find last revision.',
      );
      await clearRollbackTo(env, pass);
      return;
    }
  }
  const target = allRSs.find((rs) => revisionOf(rs) === revision);
  if (!target) {
    env.events.event(
      DEPLOYMENTS,
      pass.d,
      'Warning',
      REASON_ROLLBACK_NOT_FOUND,
      'Unable to find the revision to rollback to.',
    );
    await clearRollbackTo(env, pass);
    return;
  }
  const d = pass.d;
  let performed = false;
  if (!equalIgnoreHash(d.spec?.template, target.spec?.template)) {
    // The template (without the hash label) and the ReplicaSet's annotations (change-cause) come back.
    d.spec = { ...d.spec, template: withoutHash(target.spec?.template) };
    setDeploymentAnnotationsTo(d, target);
    performed = true;
  } else {
    env.events.event(
      DEPLOYMENTS,
      d,
      'Warning',
      REASON_ROLLBACK_UNCHANGED,
      `The rollback revision contains the same template as current deployment "${d.metadata.name}"`,
    );
  }
  await clearRollbackTo(env, pass);
  if (performed) {
    env.events.event(
      DEPLOYMENTS,
      pass.d,
      'Normal',
      REASON_ROLLBACK_DONE,
      `Rolled back deployment "${pass.d.metadata.name}" to revision ${revision}`,
    );
  }
}

/** updateDeploymentAndClearRollbackTo */
async function clearRollbackTo(env: DeploymentEnv, pass: SyncPass): Promise<void> {
  if (pass.d.metadata.annotations) delete pass.d.metadata.annotations[ROLLBACK_TO_ANNOTATION];
  await writeDeployment(env, pass);
}
