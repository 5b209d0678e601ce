/** The kubelet's volumes: the VolumeManager, its atomic writer and mounts, and the local-path reaper. */
export { DATA_DIR, type FileProjection, type Payload, writeAtomically } from './atomic-writer.ts';
export { checkHostPathType } from './hostpath.ts';
export { managedHostsFile, podHostnameAndDomain } from './hosts.ts';
export {
  DEFAULT_TERMINATION_MESSAGE_PATH,
  KubeletVolumeManager,
  type KubeletVolumeManagerOptions,
  MAX_TERMINATION_MESSAGE,
  type MountsForOptions,
  PLUGIN_DIRS,
  readTerminationMessage,
} from './manager.ts';
export { isMountPoint, MountError, mountsUnder, mountTmpfs, unmount } from './mount.ts';
export { claimHostPath } from './pvc.ts';
export { type LocalPathReaperOptions, reapLocalPathDirs, runLocalPathReaper } from './reaper.ts';
export { ObjectSource, type ObjectSourceOptions, SourceNotFoundError } from './sources.ts';
export { TokenSource } from './tokens.ts';
