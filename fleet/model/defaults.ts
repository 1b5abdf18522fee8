/**
 * Fleet-wide defaults, in one place. Families override the runtime values in families.yaml
 * (`runtime:`); a family without a value takes its parent's, then these.
 */

/** Container limits and health timing every family starts from. */
export const RUNTIME_DEFAULTS = {
    /** Memory limit of a container. @default 512 */
    memoryMb: 512,
    /** /dev/shm size; PyTorch data loaders and NCCL need far more on GPU families. @default 64 */
    shmMb: 64,
    /** Process limit of a container (CIS Docker 5.29). @default 256 */
    pidsLimit: 256,
    /** Failing health checks do not count during this time after start. @default 30 */
    startPeriodSeconds: 30,
    /** How long `pulumi up` waits for the container to become healthy. @default 120 */
    waitTimeoutSeconds: 120,
};

/** Health-check timing shared by every container (004 §E's examples). */
export const HEALTH_DEFAULTS = {
    /** @default 30 */
    intervalSeconds: 30,
    /** @default 10 */
    timeoutSeconds: 10,
    /** @default 3 */
    retries: 3,
    /** Probe interval during the start period, so a fast service turns healthy quickly. @default 5 */
    startIntervalSeconds: 5,
};

/** Non-root identity of every runtime stage (002 §A). */
export const APP_UID = 10001;
export const APP_GID = 10001;
export const APP_USER = "appuser";
