/** The pod garbage collector. */
export { OUT_OF_SERVICE_TAINT, PodGcController, type PodGcControllerOptions } from './controller.ts';
