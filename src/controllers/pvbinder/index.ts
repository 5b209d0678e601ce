/** The PersistentVolume binder: claims to volumes, phases, default classes, provisioning requests. */
export * from './bind.ts';
export { BY_CLAIM, claimNode, claimsOfPod, defaultClass, STORAGE_CLASSES } from './claims.ts';
export { EXTERNAL_DELETERS, PersistentVolumeBinderController } from './controller.ts';
export { claimClass, findMatchingVolume, isPreBoundTo, nodeSelectorMatches } from './match.ts';
export { PVC_PROTECTION_FINALIZER, PvcProtectionController } from './protection.ts';
