/** Container probes (startup, liveness, readiness) as the kubelet runs them. */
export { ProberManager, type ProberOptions } from './manager.ts';
export { type ProbeOutcome, type ProbeResult, runProbe } from './probe.ts';
