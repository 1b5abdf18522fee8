/**
 * Providers, one per host, created here (this layer alone imports the provider packages) and
 * passed explicitly through resource options; nothing relies on an ambient default provider.
 */
import * as docker from "@pulumi/docker";
import * as dockerbuild from "@pulumi/docker-build";
import { RegistryCredentials } from "./image";

/**
 * The BuildKit that builds a host's images: the host's own daemon, so a `load` ends up where
 * the containers run and a `push` leaves the layers warm on the host that pulls them.
 */
export function buildProvider(name: string, dockerHost: string, credentials?: RegistryCredentials): dockerbuild.Provider {
    return new dockerbuild.Provider(name, { host: dockerHost, registries: credentials ? [credentials] : undefined });
}

/** The Docker daemon of a host, which pulls its images with the registry credentials. */
export function dockerProvider(name: string, dockerHost: string, credentials?: RegistryCredentials): docker.Provider {
    return new docker.Provider(name, {
        host: dockerHost,
        // Never prompt: a deploy from CI has no terminal to answer a host-key or password prompt.
        sshOpts: dockerHost.startsWith("ssh://") ? ["-o", "BatchMode=yes"] : undefined,
        registryAuth: credentials ? [{ address: credentials.address, username: credentials.username, password: credentials.password }] : undefined,
    });
}

export type { RegistryCredentials };
