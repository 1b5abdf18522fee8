/**
 * Family and service images on @pulumi/docker-build. A family builds FROM its parent's `ref`
 * (tag@digest once pushed), a service FROM its family's, so the graph of resources is the
 * graph of images and every child rebuilds on its parent's new digest.
 */
import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { FamilyBuild, ProxyBuild, ServiceBuild } from "../fleet/build/buildPlan";

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
        // A registry cache needs a registry: the local stack relies on the daemon's own cache.
        cacheFrom: push ? [{ registry: { ref: b.cacheRef } }] : undefined,
        cacheTo: push ? [{ registry: { ref: b.cacheRef, mode: dockerbuild.CacheMode.Max, ignoreError: true, imageManifest: true, ociMediaTypes: true } }] : undefined,
        registries: a.settings.credentials ? [a.settings.credentials] : undefined,
    };
}

/** What every image component shares; `type` is the subclass's type token. */
abstract class FleetImage extends pulumi.ComponentResource {
    /** Tag and digest once pushed (`<image>:<tag>@sha256:...`), the tag when loaded. */
    public readonly ref: pulumi.Output<string>;
    public readonly digest: pulumi.Output<string>;
    /** The content-derived tag (`YYYYMMDD-<sha>-<recipe>`), known before the build. */
    public readonly tag: string;

    protected constructor(type: string, name: string, args: FleetImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        const image = new dockerbuild.Image(name, imageArgs(args), { parent: this, provider: args.settings.provider });
        this.ref = image.ref;
        this.digest = image.digest;
        this.tag = args.build.version.tag;
        this.registerOutputs({ ref: this.ref, digest: this.digest, tag: this.tag });
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
