/**
 * Providers, one per host, created here (this layer alone imports the provider packages) and
 * passed explicitly through resource options; nothing relies on an ambient default provider.
 */
import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { RegistryCredentials } from "./image";

/**
 * The BuildKit that builds a host's images: the host's own daemon, so a `load` ends up where
 * the containers run and a `push` leaves the layers warm on the host that pulls them.
 */
export function buildProvider(name: string, dockerHost: string, credentials?: RegistryCredentials): dockerbuild.Provider {
    return new dockerbuild.Provider(name, { host: dockerHost, registries: credentials ? [credentials] : undefined });
}

export type { RegistryCredentials };
export type ProviderOptions = pulumi.CustomResourceOptions;
