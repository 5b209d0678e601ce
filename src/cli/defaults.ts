/** Defaults shared by the commands, in a module of their own so that no command loads another. */
export const DEFAULT_DATA_DIR = '/var/lib/skiff';
