/**
 * @pulumi/docker-build 0.0.22 in exec mode: the `docker buildx build` command line its cli.go
 * `execBuild` runs for an Image's inputs, the Docker config it hands buildx, and how a failed
 * build reads (source: pulumi/pulumi-docker-build v0.0.22, provider/internal/cli.go, host.go
 * `builderFor`, image.go `validate`/`normalize`/`Create`, cache.go, export.go). Pure.
 */
import { fail, Inputs } from "../fail";
import { Registered } from "../../mocks";

/** Debian's Docker CLI, whose buildx plugin this engine runs (not the machine's newer client). */
export const DOCKER_CLI = "/usr/bin/docker";

/** Sorted entries of a string map: Go ranges over maps in random order, any order is the provider's. */
function sortedEntries(m: Record<string, string> | undefined): [string, string][] {
    return Object.entries(m ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

/** `--cache-from` of one cacheFrom entry (cache.go CacheFromRegistry.String). */
function cacheFromArg(r: Registered, c: Inputs): string {
    const kinds = Object.keys(c).filter((k) => c[k] !== undefined);
    if (kinds.length !== 1 || kinds[0] !== "registry") fail(r, `cacheFrom '${kinds.join(",")}' is not translated`);
    return `type=registry,ref=${c.registry.ref}`;
}

/**
 * `--cache-to` of one cacheTo entry (cache.go CacheToRegistry.String, with the defaults the
 * provider's schema sets: mode min, ignoreError false, ociMediaTypes true, imageManifest false;
 * no compression attributes while compressionLevel is 0).
 */
function cacheToArg(r: Registered, c: Inputs): string {
    const kinds = Object.keys(c).filter((k) => c[k] !== undefined);
    if (kinds.length !== 1 || kinds[0] !== "registry") fail(r, `cacheTo '${kinds.join(",")}' is not translated`);
    const g = c.registry;
    for (const k of Object.keys(g)) if (!["ref", "mode", "ignoreError", "ociMediaTypes", "imageManifest"].includes(k)) fail(r, `cacheTo.registry.${k} is not translated`);
    return `type=registry,ref=${g.ref},mode=${g.mode ?? "min"},ignore-error=${g.ignoreError ?? false},oci-mediatypes=${g.ociMediaTypes ?? true},image-manifest=${g.imageManifest ?? false}`;
}

/**
 * The `docker buildx` command line the provider's exec mode runs for these Image inputs (cli.go
 * execBuild, in its order). `push` becomes the export `type=registry`, which buildx's export
 * parser turns into `type=image,push=true`; `load` the export `type=docker` (image.go normalize,
 * export.go). The builder is the one named: with none, host.go builderFor would take another
 * builder or create a docker-container one, which this harness refuses to stand in for.
 */
export function buildxInvocation(r: Registered, metadataFile: string): { args: string[]; stdin?: string } {
    const i = r.inputs;
    if (i.exec !== true) fail(r, "only exec mode is translated: without it the provider builds with its embedded buildx client, which refuses the docker driver");
    const builder: string | undefined = i.builder?.name;
    if (!builder) fail(r, "no builder named: the provider would pick a builder other than the docker-driver default or create a docker-container one (host.go builderFor), which cannot see the daemon's images (moby/buildkit#2343); set builder.name");
    if (i.network !== undefined && i.network !== "default" && i.network !== "host") fail(r, `build network '${i.network}' is not translated`);
    const args = ["buildx", "build", "--progress", "plain", "--metadata-file", metadataFile, "--builder", builder];
    for (const [k, v] of sortedEntries(i.buildArgs)) args.push("--build-arg", `${k}=${v}`);
    args.push("--builder", builder);
    for (const c of i.cacheFrom ?? []) args.push("--cache-from", cacheFromArg(r, c));
    for (const c of i.cacheTo ?? []) args.push("--cache-to", cacheToArg(r, c));
    if (i.push) args.push("--output", "type=image,push=true");
    if (i.load) args.push("--output", "type=docker");
    for (const [k, v] of sortedEntries(i.labels)) args.push("--label", `${k}=${v}`);
    // The provider's schema defaults `network` to "default" and always passes it.
    args.push("--network", i.network ?? "default");
    for (const p of i.platforms ?? []) args.push("--platform", p);
    for (const t of i.tags ?? []) args.push("--tag", t);
    if (i.target) args.push("--target", i.target);
    let stdin: string | undefined;
    if (i.dockerfile?.location) args.push("-f", i.dockerfile.location);
    if (i.dockerfile?.inline !== undefined) {
        stdin = i.dockerfile.inline;
        args.push("-f", "-");
    }
    if (i.context?.location) args.push(i.context.location);
    return { args, stdin };
}

/**
 * The temporary DOCKER_CONFIG of one build (cli.go wrap + execBuild): the host's stored auths
 * with the Image's `registries` layered on top, keyed by registry host, no credential helpers.
 */
export function dockerConfig(registries: Inputs[] | undefined, hostConfig: Record<string, unknown> = {}): { auths: Record<string, { auth: string }> } {
    const auths: Record<string, { auth: string }> = { ...((hostConfig.auths as Record<string, { auth: string }>) ?? {}) };
    for (const reg of registries ?? []) {
        const host = String(reg.address).replace(/^[a-z]+:\/\//, "").split("/")[0];
        auths[host] = { auth: Buffer.from(`${reg.username}:${reg.password}`).toString("base64") };
    }
    return { auths };
}

/**
 * The lines of a failed build's output that say why. The provider's error carries buildx's whole
 * stderr (cli.go exec: `fmt.Errorf("%w: %s", err, c.err.String())`), which an operator reads in
 * `pulumi up`; the harness keeps buildx's own ERROR lines, then the ERROR lines the failed step
 * printed (`#12 3.456 ERROR: No matching distribution found for uvicorn==0.0.1` is pip naming
 * the package the index lacks), or the last five lines when there are none.
 */
export function buildErrors(stderr: string): string {
    const lines = stderr.split("\n").map((l) => l.trim());
    const own = lines.filter((l) => /^ERROR\b|^error:/i.test(l));
    const step = lines.map((l) => /^#\d+ \d+\.\d+ (ERROR: .*)$/.exec(l)?.[1]).filter((l): l is string => l !== undefined);
    const all = [...own, ...step];
    return all.length > 0 ? all.join("; ") : lines.filter((l) => l !== "").slice(-5).join("; ");
}

/**
 * Whether a failed build's output is the suite's registry losing a race on a tag, and nothing
 * else. Debian's docker-registry (distribution 2.8) truncates a tag's link file before writing it
 * (filesystem driver PutContent; distribution 3 writes a temporary file and renames it), and the
 * daemon's pusher PUTs an image index and its manifests to one tag over parallel connections,
 * HEADing the tag before each: a HEAD that reads the link mid-write gets a 500 ("invalid checksum
 * digest format" in the registry's log). Only that registry (127.0.0.1:5000, scripts/registry.sh)
 * and only a 500 on a manifest request count: an unreachable registry, a refused credential or a
 * missing blob still fail the build at once.
 */
export function registryTagRace(stderr: string): boolean {
    return /unexpected status from (HEAD|PUT|GET) request to http:\/\/127\.0\.0\.1:5000\/v2\/[^\s]+\/manifests\/[^\s:]+: 500 Internal Server Error/.test(stderr);
}

/** `repo:tag@digest` as `repo@digest` (the daemon ignores the tag of a digested reference); other names as given. */
export function withoutTag(name: string): string {
    const at = name.indexOf("@");
    if (at < 0) return name;
    const repoTag = name.slice(0, at);
    const colon = repoTag.lastIndexOf(":");
    return (colon > repoTag.lastIndexOf("/") ? repoTag.slice(0, colon) : repoTag) + name.slice(at);
}

/** `<tag>@<digest>` (image.go addDigest), or the tag when there is no digest. */
export function refOf(tag: string, digest: string): string {
    return digest ? `${tag}@${digest}` : tag;
}

/**
 * Build steps (`#N [stage i/n] ...`) of buildx's plain progress output, and how many were CACHED;
 * `cachedRuns`/`runs` count the RUN steps alone.
 */
export function cacheHits(log: string): { steps: number; cached: number; runs: number; cachedRuns: number } {
    const steps = new Set<string>();
    const runs = new Set<string>();
    const cached = new Set<string>();
    for (const line of log.split("\n")) {
        const m = /^#(\d+) (\[[^\]]*\d+\/\d+\]( RUN )?|CACHED)/.exec(line);
        if (!m) continue;
        if (m[2] === "CACHED") cached.add(m[1]);
        else {
            steps.add(m[1]);
            if (m[3]) runs.add(m[1]);
        }
    }
    const hit = (set: Set<string>) => [...cached].filter((v) => set.has(v)).length;
    return { steps: steps.size, cached: hit(steps), runs: runs.size, cachedRuns: hit(runs) };
}

