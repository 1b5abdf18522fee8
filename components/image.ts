/**
 * Family and service images on @pulumi/docker-build. A family builds FROM its parent's image, a
 * service FROM its family's, so the graph of resources is the graph of images and every child
 * rebuilds when its parent changes.
 *
 * How every stack builds (sources read: pulumi/pulumi-docker-build, the provider of
 * @pulumi/docker-build 0.0.22 pinned in package.json; provider/internal/host.go `builderFor`,
 * cli.go `execBuild`, image.go `validate`/`normalize`/`Create`, cache.go):
 *
 * - Builder: named explicitly (`builder.name`, fleet:buildxBuilder, "default"), a builder with
 *   Docker's own `docker` driver on the host's daemon. With no builder named, `builderFor` skips
 *   the docker-driver default builder (`b.Driver == ""`), takes any other reachable builder, or
 *   else creates a `docker-container` builder. That builder runs BuildKit in a container with its
 *   own store: it cannot see images in the daemon (moby/buildkit#2343), so the `local` stack, whose
 *   services build FROM families loaded into the daemon, would try to pull `localhost/fleet/...`
 *   from a registry and fail; and on mainpc/pc2 every cache would live in a container nobody
 *   prunes. The docker driver builds in the daemon, so a build's result is where the containers run.
 * - Exec mode (`exec: true`): the provider's embedded client refuses the docker driver (the
 *   `builder` input's own doc: "The legacy docker driver is not supported"); in exec mode it runs
 *   the host's `docker buildx build` plugin with the named builder, which supports it. The host
 *   needs the buildx plugin; scripts/host-preflight.sh checks it and the builder. In exec mode the
 *   provider puts no `--host` on the buildx command line: the builder's endpoint comes from the
 *   environment the Pulumi CLI runs in (DOCKER_HOST or the docker context), which is why the builder
 *   is a stack setting and the preflight checks it under that environment.
 * - Containerd image store on the hosts (daemon.json features.containerd-snapshotter): the docker
 *   driver refuses a registry cache export (`--cache-to type=registry`) with the classic store.
 *   mainpc and pc2 push with the registry cache, so the preflight requires the store when
 *   fleet:imageOutput is push.
 * - `local` (imageOutput load) needs no registry: the docker driver loads each family into the
 *   daemon and the next build reads it there by tag. Not by `ref`: the provider sets `digest` from
 *   the build's metadata (`containerimage.digest`) for a load too, so `ref` is `tag@digest`, and
 *   BuildKit resolves a digested FROM in a registry, never in the daemon (tried: "failed to resolve
 *   source metadata for localhost/...@sha256:...: dial tcp 127.0.0.1:443"). So a loaded image is
 *   used by its content-derived tag, which changes whenever its inputs or its parent change.
 */
import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { FamilyBuild, ProxyBuild, ServiceBuild } from "../fleet/imageplan/buildPlan";

export interface RegistryCredentials {
    address: string;
    username: pulumi.Input<string>;
    password: pulumi.Input<string>;
}

export interface ImageSettings {
    /** Push to the registry, or load into the build machine's daemon (local stack). */
    output: "push" | "load";
    /** Build during previews as well. @default false */
    buildOnPreview: boolean;
    /** Network of the builds' RUN steps (StackConfig.buildNetwork). @default "default" */
    network: "default" | "host";
    /** Only from Pulumi secrets. */
    credentials?: RegistryCredentials;
    /** The buildx builder (docker driver) of the host, named explicitly; see the top of this file. */
    builder: string;
    /** The docker-build provider of the build machine. */
    provider: dockerbuild.Provider;
}

export interface FleetImageArgs {
    build: FamilyBuild | ServiceBuild | ProxyBuild;
    /** The parent family's ref; absent for a root family, which builds FROM its upstream. */
    base?: pulumi.Input<string>;
    settings: ImageSettings;
}

function imageArgs(a: FleetImageArgs): dockerbuild.ImageArgs {
    const b = a.build;
    const push = a.settings.output === "push";
    return {
        context: { location: b.context },
        dockerfile: b.dockerfile,
        buildArgs: a.base === undefined ? b.buildArgs : { ...b.buildArgs, BASE_IMAGE: a.base },
        tags: [b.tag],
        labels: b.labels,
        platforms: [dockerbuild.Platform.Linux_amd64],
        push,
        load: !push,
        buildOnPreview: a.settings.buildOnPreview,
        // Left unset on the default network, so the provider's inputs stay as they were.
        network: a.settings.network === "host" ? dockerbuild.NetworkMode.Host : undefined,
        builder: { name: a.settings.builder },
        exec: true,
        // A registry cache needs a registry: the local stack relies on the daemon's own cache.
        cacheFrom: push ? [{ registry: { ref: b.cacheRef } }] : undefined,
        cacheTo: push ? [{ registry: { ref: b.cacheRef, mode: dockerbuild.CacheMode.Max, ignoreError: true, imageManifest: true, ociMediaTypes: true } }] : undefined,
        registries: a.settings.credentials ? [a.settings.credentials] : undefined,
    };
}

/** What every image component shares; `type` is the subclass's type token. */
abstract class FleetImage extends pulumi.ComponentResource {
    /** The provider's `ref`: `<image>:<tag>@sha256:...` once built (pushed or loaded). */
    public readonly ref: pulumi.Output<string>;
    public readonly digest: pulumi.Output<string>;
    /**
     * What containers run: `ref`, tag@digest, pushed or loaded. The daemon (containerd image
     * store) finds a loaded image by its digest too, so a container follows the image it was built
     * from, never a tag moved since: a rebuild that gives another digest replaces the container,
     * one that gives the same leaves it alone.
     */
    public readonly runRef: pulumi.Output<string>;
    /**
     * What children build FROM: `ref` when pushed, the tag when loaded (BuildKit looks a digested
     * FROM up in a registry, never in the daemon), resolved only after the build so everything
     * that uses it waits for it.
     */
    public readonly baseRef: pulumi.Output<string>;
    /** The content-derived tag (`YYYYMMDD-<sha>-<recipe>`), known before the build. */
    public readonly tag: string;

    protected constructor(type: string, name: string, args: FleetImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        const image = new dockerbuild.Image(name, imageArgs(args), {
            parent: this, provider: args.settings.provider,
            // Images are what rollback goes back to. The provider's Delete removes the image from
            // the daemon and deletes its manifest from the registry (pulumi-docker-build v0.0.22
            // provider/internal/client.go `Delete`: ImageRemove, then `rc.ManifestDelete`), and the
            // engine deletes an Image the program no longer registers: pinning a service (which
            // builds nothing for it) would delete the very image the pin may be lifted back to.
            // Retained, it only leaves the stack's state; the registry's cache pruning never
            // touches image tags (scripts/prune-registry-cache.sh).
            retainOnDelete: true,
        });
        this.ref = image.ref;
        this.digest = image.digest;
        this.tag = args.build.version.tag;
        const tagged = args.build.tag;
        this.runRef = image.ref;
        this.baseRef = args.settings.output === "push" ? image.ref : image.ref.apply(() => tagged);
        this.registerOutputs({ ref: this.ref, digest: this.digest, tag: this.tag, runRef: this.runRef, baseRef: this.baseRef });
    }
}

/** A family base image (002 §B). */
export class FamilyImage extends FleetImage {
    constructor(name: string, args: FleetImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:images:FamilyImage", name, args, opts);
    }
}

/** A service image, built FROM its family. */
export class ServiceImage extends FleetImage {
    constructor(name: string, args: FleetImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:images:ServiceImage", name, args, opts);
    }
}

/** The self-healing supervisor's Docker API proxy image, built FROM base-python. */
export class ProxyImage extends FleetImage {
    constructor(name: string, args: FleetImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:images:ProxyImage", name, args, opts);
    }
}
