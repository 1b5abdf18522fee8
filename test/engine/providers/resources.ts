/**
 * The Docker provider's network, volume and image resources (kreuzwerker v4.5.0:
 * resource_docker_network{,_funcs}.go, resource_docker_volume.go, resource_docker_image{,_funcs}.go)
 * and @pulumi/command's local Command (pulumi-command v1.2.1: provider/pkg/provider/common/inputs.go,
 * local/commandController.go): their schema rules and what their Read keeps. Pure.
 */
import { Attr, fill, hashForm, hashString, setList } from "./schema";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const labelSet = (v: unknown) => ((v as Obj[] | null | undefined) ?? []).map((l) => ({ label: String(l.label), value: String(l.value) }));
const labelsOf = (m: Obj | null | undefined): Obj[] => Object.entries(m ?? {}).map(([label, value]) => ({ label, value }));

const ipamZero = { subnet: "", ipRange: "", gateway: "", auxAddress: {} };

/**
 * An ipam_config element as SDKv2 reads it from the config or the state (helper/schema
 * field_reader.go readObjectField: each absent field at its zero value, "" or an empty map), so
 * a config's {subnet} equals a read-back {subnet} and differs from a read-back {subnet, gateway}.
 */
const ipamConfigs = (v: unknown): Obj[] => ((v as Obj[] | null | undefined) ?? []).map((c) => {
    const f = fill(c, ipamZero);
    return { ...f, auxAddress: Object.fromEntries(Object.entries(f.auxAddress as Obj).map(([k, x]) => [k, String(x)])) };
});

/**
 * The ipam_config element's hash: resource_docker_network.go v4.5.0 L99-140 gives no Set
 * function, so schema.HashResource over its sorted attributes (aux_address, gateway, ip_range,
 * subnet; helper/schema/serialize.go SerializeResourceForHash), which orders the set's List.
 */
function ipamHash(c: Obj): number {
    return hashString(`aux_address:${hashForm.map(c.auxAddress)}gateway:${hashForm.string(c.gateway)}ip_range:${hashForm.string(c.ipRange)}subnet:${hashForm.string(c.subnet)}`);
}

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
    // resource_docker_network.go L99-140: TypeSet, Optional + Computed + ForceNew, its elements'
    // fields all Optional + ForceNew, no DiffSuppressFunc (suppressIfIPAMConfigWithIpv6Changes is
    // commented out, L104). Computed: a config without it never differs from the engine's
    // automatic subnet, nor from a subnet a former config gave. Given, it is compared element by
    // element with what Read stored, so a subnet the config gives without a gateway must read
    // back without one too (Docker 26 reports a user-configured pool's gateway only when given:
    // moby v26.1.5 daemon/network.go buildIPAMResources), and any difference replaces.
    { key: "ipamConfigs", forceNew: true, computed: true, zero: [], set: true, normalize: ipamConfigs },
];

/** The network inputs the harness knows how to create; any other fails the run by name. */
export const NETWORK_INPUTS = ["name", "driver", "internal", "labels", "ipamConfigs"];

/**
 * What resourceDockerNetworkCreate (resource_docker_network_funcs.go v4.5.0 L26-82) sends to
 * POST /networks/create for the inputs the harness takes. IPAM is always there: ipam_driver's
 * Default "default" makes `d.GetOk("ipam_driver")` ok (L58-61). ipam_config, when given, goes as
 * IPAM.Config (L62-65, ipamConfigSetToIpamConfigs L137-158) in the set's List order, each field
 * omitted when empty (api/types/network IPAMConfig: omitempty; aux_address as
 * "AuxiliaryAddresses"). CheckDuplicate is the harness's own (dockerode's default API version).
 */
export function networkCreateRequest(inputs: Obj): Obj {
    const configs = setList(ipamConfigs(inputs.ipamConfigs), ipamHash).map((c) => ({
        ...(c.subnet ? { Subnet: c.subnet } : {}),
        ...(c.ipRange ? { IPRange: c.ipRange } : {}),
        ...(c.gateway ? { Gateway: c.gateway } : {}),
        ...(Object.keys(c.auxAddress).length ? { AuxiliaryAddresses: c.auxAddress } : {}),
    }));
    return {
        Name: inputs.name, Driver: inputs.driver, Internal: inputs.internal === true, CheckDuplicate: true,
        IPAM: { Driver: "default", ...(configs.length ? { Config: configs } : {}) },
        Labels: Object.fromEntries(labelSet(inputs.labels).map((l) => [l.label, l.value])),
    };
}

/**
 * flattenIpamConfigSpec (resource_docker_network_structures.go L11-38): one element per
 * IPAM.Config entry the engine reports, each with only its non-empty fields, as a set (state in
 * its List order).
 */
function flattenIpamConfigSpec(configs: Obj[] | null | undefined): Obj[] {
    const out = (configs ?? []).map((c) => ({
        ...(c.Subnet ? { subnet: c.Subnet } : {}),
        ...(c.IPRange ? { ipRange: c.IPRange } : {}),
        ...(c.Gateway ? { gateway: c.Gateway } : {}),
        ...(Object.keys(c.AuxiliaryAddresses ?? {}).length ? { auxAddress: c.AuxiliaryAddresses } : {}),
    }));
    return setList(out, (c) => ipamHash(ipamConfigs([c])[0]));
}

/**
 * resourceDockerNetworkReadRefreshFunc (resource_docker_network_funcs.go L160-202), from
 * GET /networks/{id}: ipam_config whatever the config says (L196).
 */
export function readNetwork(inspect: Obj, prior: Obj): Obj {
    return {
        ...prior,
        name: inspect.Name, labels: labelsOf(inspect.Labels), driver: inspect.Driver, internal: inspect.Internal === true,
        attachable: inspect.Attachable === true, ingress: inspect.Ingress === true, ipv6: inspect.EnableIPv6 === true,
        ipamDriver: inspect.IPAM?.Driver ?? "", options: inspect.Options ?? {}, scope: inspect.Scope,
        ipamConfigs: flattenIpamConfigSpec(inspect.IPAM?.Config),
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
