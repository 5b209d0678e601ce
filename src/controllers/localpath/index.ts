/** Local persistent volumes as k3s ships them: the local-path StorageClass and its provisioner. */
export { LocalPathController, type LocalPathControllerOptions } from './controller.ts';
export {
  ensureLocalPathStorageClass,
  LOCAL_PATH_CLASS,
  LOCAL_PATH_PROVISIONER,
  localPathStorageClass,
} from './storageclass.ts';
