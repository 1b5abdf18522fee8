/**
 * The Docker provider's network, volume and image resources (kreuzwerker v4.5.0:
 * resource_docker_network{,_funcs}.go, resource_docker_volume.go, resource_docker_image{,_funcs}.go)
 * and @pulumi/command's local Command (pulumi-command v1.2.1: provider/pkg/provider/common/inputs.go,
 * local/commandController.go): their schema rules and what their Read keeps. Pure.
 */
import { Attr } from "./schema";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const labelSet = (v: unknown) => ((v as Obj[] | null | undefined) ?? []).map((l) => ({ label: String(l.label), value: String(l.value) }));
const labelsOf = (m: Obj | null | undefined): Obj[] => Object.entries(m ?? {}).map(([label, value]) => ({ label, value }));

export const NETWORK_ATTRS: readonly Attr[] = [
    { key: "name", forceNew: true, zero: "" },
    { key: "labels", forceNew: true, zero: [], set: true, normalize: labelSet },
    { key: "driver", forceNew: true, computed: true, zero: "" },
    { key: "options", forceNew: true, computed: true, zero: {} },
    { key: "internal", forceNew: true, computed: true, zero: false },
    { key: "attachable", forceNew: true, zero: false },
    { key: "ingress", forceNew: true, zero: false },
    { key: "ipv6", forceNew: true, zero: false },
    { key: "ipamDriver", forceNew: true, zero: "default" },
];

/** resourceDockerNetworkReadRefreshFunc, from GET /networks/{id}. */
export function readNetwork(inspect: Obj, prior: Obj): Obj {
    return {
        ...prior,
        name: inspect.Name, labels: labelsOf(inspect.Labels), driver: inspect.Driver, internal: inspect.Internal === true,
        attachable: inspect.Attachable === true, ingress: inspect.Ingress === true, ipv6: inspect.EnableIPv6 === true,
        ipamDriver: inspect.IPAM?.Driver ?? "", options: inspect.Options ?? {}, scope: inspect.Scope,
    };
}

export const VOLUME_ATTRS: readonly Attr[] = [
    { key: "name", forceNew: true, computed: true, zero: "" },
    { key: "labels", forceNew: true, zero: [], set: true, normalize: labelSet },
    { key: "driver", forceNew: true, computed: true, zero: "" },
    { key: "driverOpts", forceNew: true, zero: {} },
];

/** resourceDockerVolumeRead, from GET /volumes/{name}. */
export function readVolume(inspect: Obj, prior: Obj): Obj {
    return { ...prior, name: inspect.Name, labels: labelsOf(inspect.Labels), driver: inspect.Driver, driverOpts: inspect.Options ?? {}, mountpoint: inspect.Mountpoint };
}

export const REMOTE_IMAGE_ATTRS: readonly Attr[] = [
    { key: "name", forceNew: true, zero: "" },
    { key: "keepLocally", forceNew: false, zero: false },
    { key: "pullTriggers", forceNew: true, zero: [], set: true },
];

/**
 * resourceDockerImageRead: the image the name resolves to in the daemon (ImageInspect), and its
 * repo digest (determineRepoDigest: the RepoDigests entry of the name's repository, else the first).
 */
export function readRemoteImage(inspect: Obj, prior: Obj): Obj {
    const name = String(prior.name);
    const at = name.indexOf("@");
    const repo = at >= 0 ? name.slice(0, at).replace(/:[^/:]+$/, "") : name.replace(/:[^/:]+$/, "");
    const digests: string[] = inspect.RepoDigests ?? [];
    return { ...prior, imageId: inspect.Id, repoDigest: digests.find((d) => d.startsWith(`${repo}@`)) ?? digests[0] ?? "" };
}

/**
 * local.Command: pulumi-go-provider's default diff over the inputs; `triggers` is tagged
 * replaceOnChanges (common/inputs.go), so a change there replaces; any other input change
 * updates, and Update runs `create` again when there is no `update` command.
 */
export const COMMAND_ATTRS: readonly Attr[] = [
    { key: "triggers", forceNew: true, zero: [] },
    { key: "create", forceNew: false, zero: "" },
    { key: "update", forceNew: false, zero: "" },
    { key: "delete", forceNew: false, zero: "" },
    { key: "environment", forceNew: false, zero: {} },
    { key: "dir", forceNew: false, zero: "" },
    { key: "stdin", forceNew: false, zero: "" },
];
