/**
 * The benchmark's compose comparison: the containers the program registered (the same plan,
 * inputs as the harness created them) written as a Compose file, and brought up with
 * `docker compose up --wait` (compose v2 from scripts/engine-up.sh's packages).
 */
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { containerName } from "../fleet/model/names";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Inputs = Record<string, any>;

/**
 * The compose service of one registered docker.Container; seccomp JSON goes to a file, as compose
 * reads a path. `pidsLimit` is what the program's `docker update --pids-limit` command sets after
 * create (the provider has no input for it); compose sets it at create.
 */
function service(i: Inputs, dir: string, core: string[], pidsLimit: number | undefined, networkName: (ref: string) => string): Inputs {
    const securityOpt = (i.securityOpts as string[]).map((o) => {
        if (!o.startsWith("seccomp=")) return o;
        const file = path.join(dir, `${i.name}.seccomp.json`);
        fs.writeFileSync(file, o.slice("seccomp=".length));
        return `seccomp=${file}`;
    });
    const hc = i.healthcheck;
    const svc: Inputs = {
        image: i.image,
        container_name: i.name,
        user: i.user,
        read_only: i.readOnly,
        tmpfs: Object.entries(i.tmpfs ?? {}).map(([p, o]) => `${p}:${o}`),
        cap_drop: i.capabilities?.drops,
        security_opt: securityOpt,
        init: i.init,
        restart: i.restart,
        logging: i.logDriver ? { driver: i.logDriver, options: i.logOpts } : undefined,
        mem_limit: `${i.memory}m`,
        memswap_limit: i.memorySwap !== undefined ? `${i.memorySwap}m` : undefined,
        shm_size: i.shmSize !== undefined ? `${i.shmSize}m` : undefined,
        cpus: i.cpus !== undefined ? Number(i.cpus) : undefined,
        cpu_shares: i.cpuShares,
        pids_limit: pidsLimit,
        ports: (i.ports ?? []).map((p: Inputs) => ({ target: p.internal, published: String(p.external), host_ip: p.ip, protocol: p.protocol })),
        networks: Object.fromEntries((i.networksAdvanced ?? []).map((n: Inputs) => [networkName(n.name), n.aliases ? { aliases: n.aliases } : {}])),
        environment: i.envs,
        labels: Object.fromEntries((i.labels ?? []).map((l: Inputs) => [l.label, l.value])),
        volumes: (i.mounts ?? []).map((m: Inputs) => ({ type: m.type, source: m.source, target: m.target, read_only: m.readOnly === true })),
        deploy: i.deviceRequests?.length ? { resources: { reservations: { devices: (i.deviceRequests as Inputs[]).map((d) => ({ driver: d.driver, device_ids: d.deviceIds, capabilities: d.capabilities })) } } } : undefined,
        healthcheck: hc ? { test: hc.tests, interval: hc.interval, timeout: hc.timeout, start_period: hc.startPeriod, start_interval: hc.startInterval, retries: hc.retries } : undefined,
    };
    const tier = (i.labels ?? []).find((l: Inputs) => l.label === "fleet.tier")?.value;
    const deps = [...(tier === "app" ? core : []), ...((i.envs ?? []).some((e: string) => e.startsWith("DOCKER_HOST=")) ? ["docker-api-proxy"] : [])];
    if (deps.length) svc.depends_on = Object.fromEntries(deps.map((d) => [d, { condition: "service_healthy" }]));
    return Object.fromEntries(Object.entries(svc).filter(([, v]) => v !== undefined));
}

/** The PIDs limit each registered `bash scripts/container-start.sh <container> <service> <machine> N <wait> <stable> [front...]` command sets, by container. */
export function pidsLimits(commands: Inputs[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of commands) {
        const m = /^bash scripts\/container-start\.sh (\S+) \S+ \S+ (\d+) \d+ \d+( .*)?$/.exec(String(c.create ?? ""));
        if (m) out[m[1]] = Number(m[2]);
    }
    return out;
}

/**
 * A container's compose service: its alias on the host network (the service's container name of
 * fleet/model/names.ts; the proxy's fixed name), stable where the container's own name is the
 * provider's auto-name.
 */
function composeName(c: Inputs): string {
    return String(c.networksAdvanced?.[0]?.aliases?.[0] ?? c.name);
}

/** A container's label, from its registered `labels` inputs. */
export const labelOf = (c: Inputs, label: string): string | undefined => (c.labels ?? []).find((l: Inputs) => l.label === label)?.value;

/**
 * Compose has no front: each service's container publishes its ports and holds its alias on the
 * host network itself, as stock Compose runs it. So the host front's ports (its configuration's
 * listen sections `<container name>.<role>-<port>`, bound first on the publish address:
 * fleet/render/front.ts) and the service's name go back to its service's container; the host
 * front and its resolvers are left out, and so is the containers' `dns` (Docker's own DNS answers
 * the aliases).
 */
function withoutFront(registered: Inputs[], frontConfig: string): Inputs[] {
    const binds = new Map<string, { ip: string; port: number }[]>();
    for (const block of frontConfig.split(/\n(?=listen )/).slice(1)) {
        const name = /^listen ([^.\s]+)\./.exec(block)![1];
        const [, ip, port] = /^ {4}bind (\S+):(\d+)$/m.exec(block)!;
        binds.set(name, [...(binds.get(name) ?? []), { ip, port: Number(port) }]);
    }
    return registered.filter((c) => !["host-front", "resolver"].includes(labelOf(c, "fleet.role") ?? "")).map((c) => {
        const service = labelOf(c, "fleet.service");
        if (service === undefined || !binds.has(containerName(service))) return c;
        const alias = containerName(service);
        const { dns: _dns, ...rest } = c;
        return {
            ...rest,
            ports: binds.get(alias)!.map((b) => ({ internal: b.port, external: b.port, ip: b.ip, protocol: "tcp" })),
            networksAdvanced: [{ ...c.networksAdvanced[0], aliases: [alias] }, ...c.networksAdvanced.slice(1)],
        };
    });
}

/** The host front's configuration among the registered commands: its command's stdin (components/hostFront.ts). */
export function frontConfigOf(commands: Inputs[]): string {
    const cmd = commands.find((c) => String(c.create ?? "").startsWith("bash scripts/host-front.sh "));
    if (!cmd) throw new Error("no host front command among the registered commands");
    return String(cmd.stdin);
}

/**
 * Writes `compose.yaml` under `dir` for the registered containers and networks; returns its path.
 * Containers name their networks by id (components/serviceContainer.ts): `networks` carry the
 * id each network got, and compose gets the name. Networks and volumes are the ones the
 * program made (`external`): both sides start containers only, into the same networks.
 */
export function writeCompose(registered: Inputs[], networks: (Inputs & { id: string })[], dir: string, frontConfig: string, pids: Record<string, number> = {}): string {
    const containers = withoutFront(registered, frontConfig);
    const networkName = (ref: string) => networks.find((n) => n.id === ref || n.name === ref)?.name ?? ref;
    const core = containers.filter((c) => (c.labels ?? []).some((l: Inputs) => l.label === "fleet.tier" && l.value === "core")).map(composeName);
    const volumes = [...new Set(containers.flatMap((c) => (c.mounts ?? []).filter((m: Inputs) => m.type === "volume").map((m: Inputs) => m.source as string)))];
    const doc = {
        services: Object.fromEntries(containers.map((c) => [composeName(c), service(c, dir, core, pids[c.name], networkName)])),
        networks: Object.fromEntries(networks.map((n) => [n.name, { name: n.name, external: true }])),
        volumes: Object.fromEntries(volumes.map((v) => [v, { name: v, external: true }])),
    };
    const file = path.join(dir, "compose.yaml");
    fs.writeFileSync(file, stringify(doc));
    return file;
}
