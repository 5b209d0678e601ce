/**
 * Images: the ImageManager (pull policy, pull secrets, back-off), image GC by disk thresholds,
 * importing image archives into containerd, and the offline builder of skiff's own small images.
 */
export * from './archive.ts';
export * from './backoff.ts';
export * from './builder.ts';
export * from './errors.ts';
export * from './gc.ts';
export * from './import.ts';
export * from './keyring.ts';
export * from './manager.ts';
export * from './reference.ts';
export * from './startup.ts';
export * from './tar.ts';
