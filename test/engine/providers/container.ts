/**
 * docker.Container as @pulumi/docker 5.2.0 keeps it: kreuzwerker/terraform-provider-docker
 * v4.5.0 (internal/provider/resource_docker_container.go for the schema,
 * resource_docker_container_funcs.go for Create, Read and Update, _structures.go and helpers.go
 * for the flatteners). Pure: the Engine API requests Create sends, the state Read keeps from
 * `docker inspect`, and the diff of that state against new inputs.
 */
import { nanoCpusString, parseCpus } from "../../../fleet/model/dockerForms";
import { goDurationString, parseGoDuration } from "./goForms";
import { Attr, fill, hashForm, hashString, hashStringSchema, setList, sortedStrings, stringSetList, withDefaults } from "./schema";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;
const MB = 1024 * 1024;

const portZero = { internal: 0, external: 0, ip: "0.0.0.0", protocol: "tcp" };
const mountZero = { target: "", source: "", type: "", readOnly: false, bindOptions: [], volumeOptions: [], tmpfsOptions: [] };
const networkZero = { name: "", aliases: [], ipv4Address: "", ipv6Address: "", linkLocalIps: [], macAddress: "", driverOpts: [], gwPriority: 0 };
const deviceZero = { driver: "cdi", count: 0, deviceIds: [], capabilities: [], options: {} };
const healthZero = { tests: [], interval: "0s", timeout: "0s", startPeriod: "0s", startInterval: "0s", retries: 0 };

const list = (v: unknown): Obj[] => ((v as Obj[] | null | undefined) ?? []);
const ports = (v: unknown): Obj[] => list(v).map((p) => ({ ...fill(p, portZero), ip: p.ip || "0.0.0.0" }));
const mounts = (v: unknown): Obj[] => list(v).map((m) => {
    const f = fill(m, mountZero);
    return { ...f, bindOptions: f.bindOptions ?? [], volumeOptions: f.volumeOptions ?? [], tmpfsOptions: f.tmpfsOptions ?? [] };
});
const networks = (v: unknown): Obj[] => list(v).map((n) => ({ ...fill(n, networkZero), aliases: sortedStrings(n.aliases), linkLocalIps: sortedStrings(n.linkLocalIps), driverOpts: sortedStrings(n.driverOpts) }));
const devices = (v: unknown): Obj[] => list(v).map((d) => ({ ...fill(d, deviceZero), deviceIds: sortedStrings(d.deviceIds), capabilities: sortedStrings(d.capabilities) }));
const labels = (v: unknown) => list(v).map((l) => ({ label: String(l.label), value: String(l.value) }));
const health = (v: unknown) => (v ? [fill(v, healthZero)] : []);
const caps = (v: unknown) => (v ? [{ adds: sortedStrings((v as Obj).adds), drops: sortedStrings((v as Obj).drops) }] : []);
const map = (v: unknown) => Object.fromEntries(Object.entries((v as Obj | null | undefined) ?? {}).map(([k, x]) => [k, String(x)]));
const extraHosts = (v: unknown) => list(v).map((h) => ({ host: String(h.host ?? ""), ip: String(h.ip ?? "") }));
const throttles = (v: unknown) => list(v).map((t) => ({ path: String(t.path ?? ""), rate: Number(t.rate ?? 0) }));

/**
 * suppressIfPortsDidNotChangeForMigrationV0ToV1: same length, and every old port has a new one
 * with its internal port, protocol, external port and ip; order does not matter.
 */
function portsUnchanged(state: unknown, config: unknown): boolean {
    const olds = ports(state);
    const news = ports(config);
    if (olds.length !== news.length) return false;
    return olds.every((o) => news.some((n) => n.internal === o.internal && n.protocol === o.protocol && n.external === o.external && n.ip === o.ip));
}

/** "" in the config is Docker's default, a no-op (the schema's user and working_dir). */
const emptyIsNoop = (_state: unknown, config: unknown) => config === "";

/** The attributes a container's Read keeps or the program sets, with their schema rules. */
export const CONTAINER_ATTRS: readonly Attr[] = [
    { key: "name", forceNew: true, zero: "" },
    { key: "image", forceNew: true, zero: "" },
    { key: "user", forceNew: true, zero: "", suppress: emptyIsNoop },
    { key: "workingDir", forceNew: true, zero: "", suppress: emptyIsNoop },
    { key: "domainname", forceNew: true, zero: "" },
    { key: "readOnly", forceNew: true, zero: false },
    { key: "rm", forceNew: false, zero: false },
    { key: "start", forceNew: false, zero: true },
    { key: "mustRun", forceNew: false, zero: true },
    { key: "wait", forceNew: false, zero: false },
    { key: "waitTimeout", forceNew: false, zero: 60 },
    { key: "removeVolumes", forceNew: false, zero: true },
    { key: "restart", forceNew: false, zero: "no" },
    { key: "maxRetryCount", forceNew: false, zero: 0 },
    { key: "tmpfs", forceNew: false, zero: {}, normalize: map },
    { key: "mounts", forceNew: true, zero: [], set: true, normalize: mounts },
    { key: "capabilities", forceNew: true, zero: undefined, normalize: caps },
    { key: "securityOpts", forceNew: true, computed: true, zero: [], set: true, normalize: sortedStrings },
    { key: "init", forceNew: false, computed: true, zero: false },
    { key: "logDriver", forceNew: true, computed: true, zero: "" },
    { key: "logOpts", forceNew: true, zero: {}, normalize: map },
    { key: "memory", forceNew: false, zero: 0 },
    { key: "memoryReservation", forceNew: false, zero: 0 },
    { key: "memorySwap", forceNew: false, zero: 0 },
    { key: "shmSize", forceNew: true, computed: true, zero: 0 },
    { key: "cpus", forceNew: true, zero: "" },
    { key: "cpuShares", forceNew: false, zero: 0 },
    { key: "ports", forceNew: true, zero: [], normalize: ports, suppress: portsUnchanged },
    // resource_docker_container.go v4.5.0 L901-907: Optional, ForceNew, Default "bridge", no
    // DiffSuppressFunc; Read stores HostConfig.NetworkMode as the engine reports it (funcs.go L954),
    // so "host" reads back "host". The provider does not normalise "default", but the engine does
    // (moby v26.1.5 api/server/router/container/container_routes.go L482-488: "default" is
    // created as "bridge"), so a config "default" differs from its read-back on every `up`.
    { key: "networkMode", forceNew: true, zero: "bridge" },
    // L909-970: a TypeSet (HashResource) whose every field is ForceNew; Read never sets it (see
    // readContainer), so the state keeps the config's, ipv4_address included.
    { key: "networksAdvanced", forceNew: true, zero: [], set: true, normalize: networks },
    { key: "envs", forceNew: true, computed: true, zero: [], set: true, normalize: sortedStrings },
    { key: "labels", forceNew: true, computed: true, zero: [], set: true, normalize: labels },
    { key: "healthcheck", forceNew: false, computed: true, zero: undefined, normalize: health },
    { key: "deviceRequests", forceNew: true, zero: [], set: true, normalize: devices },
    // What Read sets and the program never does (the schema's flags, resource_docker_container.go
    // v4.5.0): a daemon that fills one in shows here as a replacement (ForceNew) or an update on
    // every `up`, as it would with the provider. Optional+Computed ones never differ while unset.
    { key: "hostname", forceNew: true, computed: true, zero: "" },
    { key: "command", forceNew: true, computed: true, zero: [] },
    { key: "entrypoints", forceNew: true, computed: true, zero: [] },
    { key: "ipcMode", forceNew: true, computed: true, zero: "" },
    { key: "platform", forceNew: true, computed: true, zero: "" },
    { key: "runtime", forceNew: true, computed: true, zero: "" },
    { key: "stopSignal", forceNew: true, computed: true, zero: "" },
    { key: "stopTimeout", forceNew: true, computed: true, zero: 0 },
    // L196-203: TypeSet of strings (schema.HashString), Optional, ForceNew, not Computed; Create
    // sends it (funcs.go L315-317), Read sets HostConfig.Dns (L852).
    { key: "dns", forceNew: true, zero: [], set: true, normalize: sortedStrings },
    { key: "dnsOpts", forceNew: true, zero: [], set: true, normalize: sortedStrings },
    { key: "dnsSearches", forceNew: true, zero: [], set: true, normalize: sortedStrings },
    { key: "groupAdds", forceNew: true, zero: [], set: true, normalize: sortedStrings },
    { key: "hosts", forceNew: true, zero: [], set: true, normalize: extraHosts },
    { key: "privileged", forceNew: true, zero: false },
    { key: "publishAllPorts", forceNew: true, zero: false },
    { key: "stdinOpen", forceNew: true, zero: false },
    { key: "tty", forceNew: true, zero: false },
    { key: "storageOpts", forceNew: true, zero: {}, normalize: map },
    { key: "sysctls", forceNew: true, zero: {}, normalize: map },
    { key: "usernsMode", forceNew: true, zero: "" },
    { key: "cpuSet", forceNew: false, zero: "" },
    { key: "deviceReadBps", forceNew: false, zero: [], set: true, normalize: throttles },
    { key: "deviceReadIops", forceNew: false, zero: [], set: true, normalize: throttles },
    { key: "deviceWriteBps", forceNew: false, zero: [], set: true, normalize: throttles },
    { key: "deviceWriteIops", forceNew: false, zero: [], set: true, normalize: throttles },
];

/** The inputs the harness knows how to create; any other fails the run by name. */
export const CONTAINER_INPUTS = ["name", "image", "user", "readOnly", "tmpfs", "mounts", "capabilities", "securityOpts", "init", "restart", "logDriver", "logOpts", "memory", "memorySwap", "shmSize", "cpus", "cpuShares", "ports", "networksAdvanced", "envs", "labels", "healthcheck", "wait", "waitTimeout", "start", "mustRun", "deviceRequests", "removeVolumes", "dns", "networkMode"];

/** The config as the provider's Create reads it (`d.Get`): every left-out attribute at its default. */
export function containerConfig(inputs: Obj): Obj {
    return withDefaults(CONTAINER_ATTRS, inputs);
}

/** What resourceDockerContainerCreate sends to POST /containers/create, field by field. */
export function createRequest(inputs: Obj): { name: string; body: Obj } {
    const c = containerConfig(inputs);
    const exposed: Obj = {};
    const bindings: Obj = {};
    for (const p of ports(c.ports)) {
        const key = `${p.internal}/${p.protocol}`;
        exposed[key] = {};
        (bindings[key] ??= []).push({ HostIp: p.ip, HostPort: String(p.external) });
    }
    const hc = c.healthcheck ? fill(c.healthcheck, healthZero) : undefined;
    const nano = c.cpus ? parseCpus(String(c.cpus)) : undefined;
    if (c.cpus && nano === undefined) throw new Error(`Error setting cpus: invalid value '${c.cpus}'`);
    const swap = Number(c.memorySwap ?? 0);
    return {
        name: c.name,
        body: {
            Image: c.image,
            Hostname: "", Domainname: "", Tty: false, OpenStdin: false, StopSignal: "",
            Env: c.envs?.length ? c.envs : undefined,
            User: c.user || undefined,
            ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
            Labels: c.labels?.length ? Object.fromEntries(labels(c.labels).map((l) => [l.label, l.value])) : undefined,
            Healthcheck: hc ? {
                Test: hc.tests, Interval: parseGoDuration(String(hc.interval)), Timeout: parseGoDuration(String(hc.timeout)),
                StartPeriod: parseGoDuration(String(hc.startPeriod)), StartInterval: parseGoDuration(String(hc.startInterval)), Retries: hc.retries,
            } : undefined,
            HostConfig: {
                Privileged: false, PublishAllPorts: false,
                RestartPolicy: { Name: c.restart, MaximumRetryCount: c.maxRetryCount ?? 0 },
                Runtime: "",
                Mounts: mounts(c.mounts).map((m) => ({ Type: m.type, Target: m.target, Source: m.source, ReadOnly: m.readOnly })),
                AutoRemove: c.rm, ReadonlyRootfs: c.readOnly,
                LogConfig: { Type: c.logDriver ?? "", Config: Object.keys(map(c.logOpts)).length ? map(c.logOpts) : undefined },
                Tmpfs: Object.keys(map(c.tmpfs)).length ? map(c.tmpfs) : undefined,
                PortBindings: Object.keys(bindings).length ? bindings : undefined,
                CapAdd: c.capabilities ? sortedStrings(c.capabilities.adds) : undefined,
                CapDrop: c.capabilities ? sortedStrings(c.capabilities.drops) : undefined,
                DeviceRequests: c.deviceRequests?.length ? devices(c.deviceRequests).map((d) => ({ Driver: d.driver, Count: d.count, DeviceIDs: d.deviceIds, Capabilities: [d.capabilities], Options: d.options })) : undefined,
                SecurityOpt: c.securityOpts?.length ? c.securityOpts : undefined,
                Memory: c.memory ? c.memory * MB : undefined,
                MemorySwap: swap ? (swap > 0 ? swap * MB : swap) : undefined,
                ShmSize: c.shmSize ? c.shmSize * MB : undefined,
                NanoCpus: nano !== undefined ? Number(nano) : undefined,
                CpuShares: c.cpuShares || undefined,
                // funcs.go L315-317: `d.GetOk("dns")`, stringSetToStringSlice: the set's order (by
                // HashString code), which is the order of resolv.conf's nameservers.
                Dns: c.dns?.length ? stringSetList(c.dns) : undefined,
                // L391-399: the schema default "bridge" when left out; "host" as given. Create
                // puts no network in NetworkingConfig whatever the mode (connectRequests).
                NetworkMode: c.networkMode,
                Init: c.init === true,
            },
            NetworkingConfig: {},
        },
    };
}

/**
 * The networks_advanced element's hash (schema.HashResource: SerializeResourceForHash over the
 * sorted attribute names of resource_docker_container.go L914-968), which orders the set's List.
 */
function networkHash(n: Obj): number {
    return hashString([
        `aliases:${hashForm.set(n.aliases, hashString)}`,
        `driver_opts:${hashForm.set(n.driverOpts, hashStringSchema)}`,
        `gw_priority:${hashForm.int(n.gwPriority)}`,
        `ipv4_address:${hashForm.string(n.ipv4Address)}`,
        `ipv6_address:${hashForm.string(n.ipv6Address)}`,
        `link_local_ips:${hashForm.set(n.linkLocalIps, hashString)}`,
        `mac_address:${hashForm.string(n.macAddress)}`,
        `name:${hashForm.string(n.name)}`,
    ].join(""));
}

/** stringSetToMapStringString (_structures.go L194-207): "k=v" split at the first "=", others dropped. */
function driverOptsMap(opts: string[]): Obj {
    const out: Obj = {};
    for (const o of opts) {
        const at = o.indexOf("=");
        if (at >= 0) out[o.slice(0, at)] = o.slice(at + 1);
    }
    return out;
}

/**
 * What resourceDockerContainerCreate connects after the create (funcs.go L462-503): nothing
 * when networks_advanced is empty (`d.GetOk`), whatever network_mode says, so a host-mode
 * container is neither disconnected nor connected. Otherwise, after disconnecting "bridge", one
 * POST /networks/{name}/connect per element in the set's List order (not the config's), each
 * with an EndpointSettings: IPAMConfig always present, its fields omitempty (api/types/network
 * EndpointIPAMConfig), so ipv4_address goes as IPAMConfig.IPv4Address only when set. Create's
 * own NetworkingConfig stays empty (L391): no network is given at create, not even the first.
 */
export function connectRequests(inputs: Obj): { network: string; endpoint: Obj }[] {
    const c = containerConfig(inputs);
    return setList(networks(c.networksAdvanced), networkHash).map((n) => {
        const ipam: Obj = {};
        if (n.ipv4Address) ipam.IPv4Address = n.ipv4Address;
        if (n.ipv6Address) ipam.IPv6Address = n.ipv6Address;
        if (n.linkLocalIps.length) ipam.LinkLocalIPs = stringSetList(n.linkLocalIps);
        return {
            network: n.name,
            endpoint: {
                IPAMConfig: ipam, Aliases: stringSetList(n.aliases), MacAddress: n.macAddress,
                DriverOpts: driverOptsMap(setList(n.driverOpts as string[], hashStringSchema)), GwPriority: n.gwPriority,
            },
        };
    });
}

/**
 * resourceDockerContainerRead: the state after a create, an update or a refresh, from the
 * container's inspect document and the state before (`prior`: what the config put in `d`).
 * Fields Read leaves alone (env, labels, networks_advanced, wait, ...) keep their prior value.
 */
export function readContainer(inspect: Obj, prior: Obj): Obj {
    const hc = inspect.HostConfig ?? {};
    const cfg = inspect.Config ?? {};
    const state: Obj = { ...prior };
    // Ports first, while must_run is still the stored one (kreuzwerker v4.5.0
    // resource_docker_container_funcs.go resourceDockerContainerRead: the ports block, then the
    // "stopped when it should be running" block that sets must_run false): a container stopped by
    // hand has no ports (the engine clears NetworkSettings.Ports on stop), so they read back [].
    if (list(prior.ports).length > 0 && (inspect.State?.Running || state.mustRun !== false)) state.ports = flattenPorts(inspect.NetworkSettings?.Ports ?? {});
    if (!inspect.State?.Running) {
        state.exitCode = inspect.State?.ExitCode;
        if (state.mustRun !== false) state.mustRun = false;
    }
    Object.assign(state, {
        name: String(inspect.Name ?? "").replace(/^\/+/, ""),
        rm: hc.AutoRemove === true,
        readOnly: hc.ReadonlyRootfs === true,
        image: String(prior.image ?? "").startsWith("sha256:") ? inspect.Image : cfg.Image,
        hostname: cfg.Hostname, domainname: cfg.Domainname ?? "",
        user: cfg.User ?? "",
        securityOpts: hc.SecurityOpt ?? [],
        restart: hc.RestartPolicy?.Name ?? "",
        maxRetryCount: hc.RestartPolicy?.MaximumRetryCount ?? 0,
        init: hc.Init ?? false,
        workingDir: cfg.WorkingDir ?? "",
        mounts: (hc.Mounts ?? []).map(readMount),
        tmpfs: hc.Tmpfs ?? {},
        memory: Math.trunc((hc.Memory ?? 0) / MB),
        memoryReservation: (hc.MemoryReservation ?? 0) > 0 ? Math.trunc(hc.MemoryReservation / MB) : hc.MemoryReservation ?? 0,
        memorySwap: (hc.MemorySwap ?? 0) > 0 ? Math.trunc(hc.MemorySwap / MB) : hc.MemorySwap ?? 0,
        shmSize: Math.trunc((hc.ShmSize ?? 0) / MB),
        cpuShares: hc.CpuShares ?? 0,
        logDriver: hc.LogConfig?.Type ?? "",
        // containerLogOptsForState: the engine's merged options, but only when the config sets any.
        logOpts: Object.keys(map(prior.logOpts)).length ? hc.LogConfig?.Config ?? {} : undefined,
        // funcs.go L954, as reported: "host" for a host-mode container. NetworkSettings.Networks
        // ({"host": ...}, or each connected network) is never read: the networks_advanced block
        // at L786-795 only sets it when `d.GetOk` is ok with an empty set, which GetOk never
        // answers (an empty set is its zero value), so networks_advanced keeps the config's.
        networkMode: hc.NetworkMode ?? "",
        // Read sets these whatever the config says (F847-F978 of resource_docker_container_funcs.go).
        command: cfg.Cmd ?? [],
        entrypoints: cfg.Entrypoint ?? [],
        dns: hc.Dns ?? [],
        dnsOpts: hc.DnsOptions ?? [],
        dnsSearches: hc.DnsSearch ?? [],
        publishAllPorts: hc.PublishAllPorts === true,
        // flattenExtraHosts: each "host:ip" split at its colons, host the first part, ip the second.
        hosts: (hc.ExtraHosts ?? []).map((e: string) => ({ host: e.split(":")[0], ip: e.split(":")[1] ?? "" })),
        runtime: hc.Runtime ?? "",
        platform: inspect.Platform ?? "",
        privileged: hc.Privileged === true,
        deviceReadBps: (hc.BlkioDeviceReadBps ?? []).map(readThrottle),
        deviceReadIops: (hc.BlkioDeviceReadIOps ?? []).map(readThrottle),
        deviceWriteBps: (hc.BlkioDeviceWriteBps ?? []).map(readThrottle),
        deviceWriteIops: (hc.BlkioDeviceWriteIOps ?? []).map(readThrottle),
        cpuSet: hc.CpusetCpus ?? "",
        storageOpts: hc.StorageOpt ?? {},
        sysctls: hc.Sysctls ?? {},
        ipcMode: hc.IpcMode ?? "",
        groupAdds: hc.GroupAdd ?? [],
        tty: cfg.Tty === true,
        stdinOpen: cfg.OpenStdin === true,
        stopSignal: cfg.StopSignal ?? "",
        usernsMode: hc.UsernsMode ?? "",
        bridge: inspect.NetworkSettings?.Bridge ?? "",
    });
    // A nil pointer leaves it unset (Config.StopTimeout is *int).
    if (cfg.StopTimeout !== undefined && cfg.StopTimeout !== null) state.stopTimeout = cfg.StopTimeout;
    if ((hc.CapAdd?.length ?? 0) > 0 || (hc.CapDrop?.length ?? 0) > 0) state.capabilities = { adds: hc.CapAdd ?? [], drops: hc.CapDrop ?? [] };
    if ((hc.NanoCpus ?? 0) > 0) state.cpus = nanoCpusString(BigInt(hc.NanoCpus));
    if (list(prior.deviceRequests).length > 0) state.deviceRequests = (hc.DeviceRequests ?? []).map(readDeviceRequest);
    if (cfg.Healthcheck) {
        const h = cfg.Healthcheck;
        state.healthcheck = { tests: h.Test ?? [], interval: goDurationString(h.Interval ?? 0), timeout: goDurationString(h.Timeout ?? 0), startPeriod: goDurationString(h.StartPeriod ?? 0), startInterval: goDurationString(h.StartInterval ?? 0), retries: h.Retries ?? 0 };
    }
    return state;
}

/** flattenThrottleDevices: path and rate of each. */
function readThrottle(t: Obj): Obj {
    return { path: t.Path ?? "", rate: Number(t.Rate ?? 0) };
}

/** flattenContainerPorts: one entry per binding, ports sorted by number (byPortAndProtocol). */
export function flattenPorts(portMap: Obj): Obj[] {
    const keys = Object.keys(portMap).sort((a, b) => Number(a.split("/")[0]) - Number(b.split("/")[0]));
    return keys.flatMap((k) => (portMap[k] ?? []).map((b: Obj) => ({ internal: Number(k.split("/")[0]), external: Number(b.HostPort), ip: b.HostIp, protocol: k.split("/")[1] })));
}

/** getDockerContainerMounts. */
function readMount(m: Obj): Obj {
    const out: Obj = { target: m.Target, source: m.Source, type: m.Type, readOnly: m.ReadOnly === true };
    if (m.BindOptions) out.bindOptions = [{ propagation: m.BindOptions.Propagation ?? "" }];
    if (m.VolumeOptions) out.volumeOptions = [{ noCopy: m.VolumeOptions.NoCopy === true, labels: Object.entries(m.VolumeOptions.Labels ?? {}).map(([label, volume]) => ({ label, volume })), ...(m.VolumeOptions.DriverConfig ? { driverName: m.VolumeOptions.DriverConfig.Name, driverOptions: m.VolumeOptions.DriverConfig.Options } : {}) }];
    if (m.TmpfsOptions) out.tmpfsOptions = [{ sizeBytes: m.TmpfsOptions.SizeBytes ?? 0, mode: m.TmpfsOptions.Mode ?? 0 }];
    return out;
}

/** flattenDeviceRequests: the first capability set only. */
function readDeviceRequest(r: Obj): Obj {
    const out: Obj = { driver: r.Driver ?? "", count: r.Count ?? 0 };
    if ((r.DeviceIDs?.length ?? 0) > 0) out.deviceIds = r.DeviceIDs;
    if ((r.Capabilities?.[0]?.length ?? 0) > 0) out.capabilities = r.Capabilities[0];
    if (Object.keys(r.Options ?? {}).length > 0) out.options = r.Options;
    return out;
}

/**
 * resourceDockerContainerUpdate: a stopped container whose config wants it running is started;
 * a change of restart or a resource limit is one POST /containers/{id}/update with all of them.
 * Everything else that can differ without ForceNew (tmpfs, healthcheck, init, wait) only changes
 * the state: the running container keeps what it was created with.
 */
export function updateRequest(state: Obj, inputs: Obj, changed: readonly string[]): { start: boolean; update?: Obj } {
    const c = containerConfig(inputs);
    const start = changed.includes("mustRun") && state.mustRun === false && c.mustRun !== false && c.start !== false;
    const limits = ["restart", "maxRetryCount", "cpuShares", "memory", "memoryReservation", "cpuSet", "memorySwap"];
    if (!changed.some((k) => limits.includes(k))) return { start };
    const swap = Number(c.memorySwap ?? 0);
    return {
        start,
        update: {
            RestartPolicy: { Name: c.restart, MaximumRetryCount: c.maxRetryCount ?? 0 },
            CpuShares: c.cpuShares ?? 0, Memory: (c.memory ?? 0) * MB, MemoryReservation: (c.memoryReservation ?? 0) * MB, CpusetCpus: "",
            ...(swap ? { MemorySwap: swap > 0 ? swap * MB : swap } : {}),
        },
    };
}
