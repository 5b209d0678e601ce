/**
 * The image errors a pod's container status shows as its waiting reason, as the kubelet names them.
 */

/**
 * Why a container's image is not ready:
 *  - ErrImagePull: the last pull failed (shown right after the failure);
 *  - ImagePullBackOff: a pull failed recently and the next try waits for the back-off;
 *  - ErrImageNeverPull: imagePullPolicy Never and the image is absent;
 *  - InvalidImageName: the name does not parse.
 */
export type ImagePullReason = 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName';

/** A container's image could not be made present; `reason` is its waiting reason. */
export class ImagePullError extends Error {
  override name = 'ImagePullError';
  readonly reason: ImagePullReason;
  /** The image as the pod spec names it. */
  readonly image: string;
  constructor(reason: ImagePullReason, image: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
    this.image = image;
  }
}
