/** The StatefulSet controller, and the ControllerRevision history it shares with the DaemonSet controller. */
export { StatefulSetController, type StatefulSetControllerOptions } from './controller.ts';
export { CONTROLLER_REVISION_HASH_LABEL, type ControllerRevision } from './history.ts';
export { POD_INDEX_LABEL, POD_NAME_LABEL, type StatefulSet, type StatefulSetStatus } from './identity.ts';
