/** The DaemonSet controller and its node-eligibility rules. */
export { DaemonSetController, type DaemonSetControllerOptions } from './controller.ts';
export { daemonTolerations, nodeShouldRunDaemonPod } from './predicates.ts';
export { type DaemonSet, type DaemonSetStatus, TEMPLATE_GENERATION_ANNOTATION } from './types.ts';
