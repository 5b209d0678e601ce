/**
 * spec.podFailurePolicy (pod_failure_policy.go) and spec.successPolicy (success_policy.go): which
 * rule a failed pod matches and what it means for the Job; whether the succeeded indexes satisfy a
 * success rule.
 */
import { OrderedIntervals } from './indexes.ts';
import type { ContainerStatus, Pod } from './podutil.ts';
import type { Job, PodFailurePolicyRule } from './types.ts';

export interface FailurePolicyMatch {
  /** Set when the rule's action is FailJob: the Job's failure message. */
  failJobMessage?: string;
  /** Whether the failure counts toward backoffLimit. */
  countFailed: boolean;
  action?: string;
}

function matchExitCodes(
  pod: Pod,
  rule: NonNullable<PodFailurePolicyRule['onExitCodes']>,
): ContainerStatus | undefined {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    const code = s.state?.terminated?.exitCode;
    if (code === undefined || code === 0) continue;
    if (rule.containerName && rule.containerName !== s.name) continue;
    const listed = rule.values.includes(code);
    if ((rule.operator === 'In' && listed) || (rule.operator === 'NotIn' && !listed)) return s;
  }
  return undefined;
}

/** matchPodFailurePolicy: the first rule that matches the failed pod decides. */
export function matchPodFailurePolicy(job: Job, pod: Pod): FailurePolicyMatch {
  const rules = job.spec.podFailurePolicy?.rules;
  if (!rules) return { countFailed: true };
  const where = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
  for (const [i, rule] of rules.entries()) {
    let failMessage: string | undefined;
    if (rule.onExitCodes) {
      const s = matchExitCodes(pod, rule.onExitCodes);
      if (!s) continue;
      failMessage = `Container ${s.name ?? ''} for pod ${where} failed with exit code ${s.state?.terminated?.exitCode} matching ${rule.action} rule at index ${i}`;
    } else if (rule.onPodConditions) {
      const cond = (pod.status?.conditions ?? []).find((c) =>
        rule.onPodConditions?.some((p) => p.type === c.type && (p.status ?? 'True') === c.status),
      );
      if (!cond) continue;
      failMessage = `Pod ${where} has condition ${cond.type} matching ${rule.action} rule at index ${i}`;
    } else continue;
    switch (rule.action) {
      case 'Ignore':
        return { countFailed: false, action: 'Ignore' };
      case 'FailIndex':
        return { countFailed: true, action: 'FailIndex' };
      case 'Count':
        return { countFailed: true, action: 'Count' };
      case 'FailJob':
        return { countFailed: true, action: 'FailJob', failJobMessage: failMessage };
    }
  }
  return { countFailed: true };
}

/** matchSuccessPolicy: the message of the first rule the succeeded indexes satisfy. */
export function matchSuccessPolicy(job: Job, succeeded: OrderedIntervals): string | undefined {
  const rules = job.spec.successPolicy?.rules;
  const completions = job.spec.completions ?? 0;
  if (!rules || succeeded.total() === 0) return undefined;
  for (const [i, rule] of rules.entries()) {
    const count = rule.succeededCount ?? undefined;
    if (rule.succeededIndexes != null) {
      const required = OrderedIntervals.parse(rule.succeededIndexes, completions);
      if (required.total() === 0) continue;
      let matched = 0;
      for (const iv of required.intervals) {
        for (let x = iv.first; x <= iv.last; x++) if (succeeded.has(x)) matched++;
      }
      if (
        matched > 0 &&
        ((count === undefined && matched === required.total()) || (count !== undefined && matched >= count))
      )
        return `Matched rules at index ${i}`;
    } else if (count !== undefined && succeeded.total() >= count) {
      return `Matched rules at index ${i}`;
    }
  }
  return undefined;
}
