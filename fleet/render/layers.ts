/**
 * Layers that come out byte for byte the same when their inputs are the same, so an image built
 * again (another builder, an empty cache, another checkout) gets the same digest and the
 * containers that run it by digest are left alone.
 *
 * What would differ between two builds of the same inputs, and what is done about it:
 * - the image config's `created` and history times: the program passes the build argument
 *   SOURCE_DATE_EPOCH (the commit date of the image's tag), which BuildKit's Dockerfile frontend
 *   uses for them (moby/buildkit docs/build-repro.md);
 * - the modification times of the files a step writes: BuildKit's `rewrite-timestamp` exporter
 *   option would clamp them, but Docker 26's builder forces `unpack` on its image exporter
 *   (moby v26.1.5 builder/builder-next/exporter/overrides/wrapper.go) and BuildKit refuses the
 *   two together (vendor/.../exporter/containerimage/export.go: "rewrite-timestamp conflicts with
 *   unpack"). So every RUN of a stage that ends in the image sets what it wrote to that time
 *   itself (`layerRun`): a marker on /dev/shm (a tmpfs, never in a layer) before the step, then
 *   everything newer than it is touched to SOURCE_DATE_EPOCH;
 * - COPY keeps the source's times and sets the destination directory's to now: files come from
 *   the build context or another stage through a bind mount and a RUN instead (`copyFrom`);
 * - Python bytecode embeds the source's modification time unless SOURCE_DATE_EPOCH is set, when
 *   py_compile writes hash-based .pyc (PEP 552): every stage declares the argument, so pip and
 *   compileall see it;
 * - apt's and dpkg's logs and ldconfig's aux-cache record times and inodes: removed after apt.
 * The default 0 keeps a hand build (`scripts/fleet dockerfiles`) working.
 *
 * buildx's default provenance attestation carries the build's start and end times in the image
 * index; the program refuses to run without BUILDX_NO_DEFAULT_ATTESTATIONS=1 (index.ts says why).
 */

/** Declared after every FROM. */
export const EPOCH_ARG = "ARG SOURCE_DATE_EPOCH=0";

const MARK = "/dev/shm/fleet-layer";
const NOT_LAYER = ["/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"];

/**
 * Touches everything the step wrote to SOURCE_DATE_EPOCH. Other filesystems are skipped by
 * -xdev; the step's own mounts are pruned as well, since a bind mount of another stage of the
 * same build can share the layer's device and hold files written moments ago, read-only.
 */
function normalize(mountTargets: string[]): string {
    const prune = [...NOT_LAYER, ...mountTargets].map((p) => `-path ${p}`).join(" -o ");
    return `find / -xdev \\( ${prune} \\) -prune -o -newer ${MARK} -print0 | xargs -0r touch -h -d "@\${SOURCE_DATE_EPOCH}"`;
}

/** What apt leaves that differs from one run to the next. */
export const APT_LEFTOVERS = "rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log /var/cache/ldconfig/aux-cache /var/cache/debconf/*-old";

/**
 * The directories BuildKit puts mount stubs in before the step starts, so before the marker:
 * /etc for /etc/hosts and /etc/resolv.conf, and the parent of each mount target. Their time
 * changed then; BuildKit removes the stubs afterwards and puts back the time they had
 * (vendor/github.com/moby/buildkit/executor/stubs.go MountStubsCleaner), so they are set too.
 */
function stubParents(targets: string[]): string[] {
    return [...new Set(["/etc", ...targets.map((t) => t.slice(0, t.lastIndexOf("/")) || "/")])];
}

function mountTargets(mounts: string[]): string[] {
    return mounts.map((m) => /(?:^|,)target=([^,\s]+)/.exec(m)?.[1]).filter((t): t is string => t !== undefined);
}

/**
 * The marker is dated a second back. File times come from the kernel's coarse clock (one tick,
 * 4 ms at HZ=250), so what the step writes within the marker's tick has the marker's time and
 * `-newer` misses it: `touch` then `mkdir -p /opt/venv` left /opt at the wall clock in 154 of
 * 500 tries here, which is enough to give an image rebuilt from nothing another digest.
 * Nothing else in the layer's filesystem is that recent: earlier steps end at SOURCE_DATE_EPOCH,
 * the stub directories are set anyway, the step's mounts are pruned, and base images are not a
 * second old.
 */
const SET_MARK = `touch -d "1 second ago" ${MARK}`;

/** A RUN whose layer ends in the image: `mounts` are RUN flags, `commands` run in order with &&. */
export function layerRun(mounts: string[], commands: string[]): string {
    const targets = mountTargets(mounts);
    const stubs = `touch -h -d "@\${SOURCE_DATE_EPOCH}" ${stubParents(targets).join(" ")}`;
    return ["RUN " + [...mounts, SET_MARK].join(" "), ...commands.map((c) => `&& ${c}`), `&& ${normalize(targets)}`, `&& ${stubs}`].join(" \\\n    ");
}

/** Files of the build context into `dir` with `mode` (COPY would keep the context's times). */
export function installFromContext(files: string[], dir: string, mode: string): string {
    return layerRun(["--mount=type=bind,target=/mnt/fleet-context"], [`install -m ${mode} ${files.map((f) => `/mnt/fleet-context/${f}`).join(" ")} ${dir}/`]);
}

/** A directory of another stage into the same place here, modes and owners kept, times not. */
export function copyFrom(stage: string, dir: string): string {
    return layerRun([`--mount=type=bind,from=${stage},source=${dir},target=/mnt/fleet-from`], [`mkdir -p ${dir}`, `cp -dR --preserve=mode,ownership,links /mnt/fleet-from/. ${dir}/`]);
}
