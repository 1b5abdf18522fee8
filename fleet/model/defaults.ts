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
};

/** Non-root identity of every runtime stage (002 §A). */
export const APP_UID = 10001;
export const APP_GID = 10001;
export const APP_USER = "appuser";

/** How every container restarts: after crashes and daemon restarts, not after `docker stop`. */
export const RESTART_POLICY = "unless-stopped";

/** Log rotation of every container (json-file keeps `docker logs` working). */
export const LOG_DEFAULTS = {
    driver: "json-file",
    /** @default "10m" */
    maxSize: "10m",
    /** @default "5" */
    maxFile: "5",
};

/** Sizes of the tmpfs mounts every container gets (the root filesystem is read-only). */
export const TMPFS_SIZES_MB = {
    /** `tempfile` and sockets. @default 64 */
    tmp: 64,
    /** HOME of appuser: libraries that write dotfiles. @default 16 */
    home: 16,
    /** The host profile document, written by the entrypoint. @default 1 */
    run: 1,
};

/** Where the entrypoint writes the profile document; /etc/machine-profile.json links here. */
export const PROFILE_PATH = "/run/fleet/machine-profile.json";

/**
 * Oldest Docker engine the fleet deploys to: device requests (API 1.40), BuildKit cache
 * mounts and cgroup v2 support. @default "20.10"
 */
export const MIN_DOCKER_VERSION = "20.10";
