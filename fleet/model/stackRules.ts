/**
 * The checks of a stack's `fleet:` values against the fleet data. Each rule names the keys it
 * reads and runs when they all passed their schema, so one wrong key hides no other problem and
 * causes no echo (fleet/model/stack.ts). Each issue says its fix as a config change (`edit`).
 */
import { isIP } from "net";
import { closest } from "./closest";
import { cudaTracks } from "./lineage";
import { FleetIssue } from "./issues";
import { Broken, publishedPorts } from "./rules";
import { FleetData, MAX_PORT } from "./schema";
import { CONFIG_NAMESPACE, DIGEST, IMAGE_TAG, StackConfig } from "./stackSchema";

export interface StackContext {
    fleet: FleetData;
    /** How the operator names the config, e.g. `Pulumi.mainpc.yaml`. */
    source: string;
    broken: Broken;
}

interface StackRule {
    needs: readonly (keyof StackConfig)[];
    check: (cfg: StackConfig, c: StackContext) => FleetIssue[];
}

const at = (key: string) => `${CONFIG_NAMESPACE}:${key}`;

/** `Service=<ref>` as its two parts. */
export function parsePin(pin: string): { service: string; ref: string } {
    const i = pin.indexOf("=");
    return { service: pin.slice(0, i), ref: pin.slice(i + 1) };
}

/** Where GPUs are off: the words after "needs a GPU (compute: gpu), and", and the other way out. */
function gpusOff(cfg: StackConfig, c: StackContext, service: string): { why: string; or: string } {
    return c.fleet.hosts[cfg.machine].gpu === null
        ? { why: `host '${cfg.machine}' has none`, or: `place ${service} on a host with a GPU in services.yaml` }
        : { why: `this stack sets fleet:gpu false`, or: "set fleet:gpu true where the host's NVIDIA runtime works" };
}

/** An unknown service name: the closest known one when there is one, else a placeholder for it. */
function unknownService(name: string, path: string, value: (near: string) => string, c: StackContext): FleetIssue {
    const near = closest(name, Object.keys(c.fleet.services));
    return near
        ? { file: c.source, path, message: `'${name}' is not a service of the fleet; the closest is ${near}`, fix: `write ${value(near)}`, edit: { set: path, value: value(near) } }
        : { file: c.source, path, message: `'${name}' is not a service of the fleet`, fix: "correct the name (names are case-sensitive, as in services.yaml)", edit: { set: path, value: value("<service>") } };
}

function serviceList(key: "enableServices" | "disableServices"): StackRule {
    return {
        needs: ["machine", key],
        check: (cfg, c) => cfg[key].flatMap((name, i): FleetIssue[] => {
            const path = at(`${key}[${i}]`);
            const svc = c.fleet.services[name];
            if (!svc) return c.broken.services(name) ? [] : [unknownService(name, path, (near) => near, c)];
            if (!svc.hosts.includes(cfg.machine)) return [{ file: c.source, path, message: `'${name}' is not placed on ${cfg.machine} (it runs on ${svc.hosts.join(", ")})`, fix: "remove the entry", edit: { rm: path, or: `add ${cfg.machine} to ${name}.hosts in services.yaml` } }];
            return [];
        }),
    };
}

/** A stack that asks by name for a GPU service where GPUs are off is refused, not left out. */
const gpuAsked: StackRule = {
    needs: ["machine", "gpu", "enableServices", "pins"],
    check: (cfg, c) => {
        if (cfg.gpu) return [];
        const asks = [
            ...cfg.enableServices.map((name, i) => ({ name, path: at(`enableServices[${i}]`), what: "is enabled by name", fix: "remove the entry" })),
            ...cfg.pins.map((p, i) => ({ name: parsePin(p).service, path: at(`pins[${i}]`), what: "is pinned", fix: "remove the pin" })),
        ];
        return asks.filter((a) => c.fleet.services[a.name]?.compute === "gpu" && c.fleet.services[a.name].hosts.includes(cfg.machine)).map((a) => {
            const off = gpusOff(cfg, c, a.name);
            return { file: c.source, path: a.path, message: `'${a.name}' ${a.what}, but it needs a GPU (compute: gpu), and ${off.why}`, fix: a.fix, edit: { rm: a.path, or: off.or } };
        });
    },
};

/**
 * The checks of `fleet:pins` entries, each with its index in the list: every entry when the list
 * passed its schema, the well-formed ones when another entry did not (so one wrong entry hides
 * no problem of the others).
 */
export function pinIssues(entries: readonly { index: number; pin: string }[], cfg: Pick<StackConfig, "machine">, c: StackContext): FleetIssue[] {
    const all = entries.map((e) => ({ ...parsePin(e.pin), index: e.index }));
    return all.flatMap(({ service: name, ref, index: i }, n): FleetIssue[] => {
        const path = at(`pins[${i}]`);
        const out: FleetIssue[] = [];
        const svc = c.fleet.services[name];
        if (!svc && !c.broken.services(name)) out.push(unknownService(name, path, (near) => `${near}=${ref}`, c));
        else if (svc && !svc.hosts.includes(cfg.machine)) out.push({ file: c.source, path, message: `'${name}' is not placed on ${cfg.machine}, so nothing runs the pinned image`, fix: "remove the pin", edit: { rm: path } });
        if (!IMAGE_TAG.test(ref) && !DIGEST.test(ref)) out.push({ file: c.source, path, message: `'${ref}' is neither an image tag nor sha256:<64 hex>`, fix: "pin a tag from `pulumi stack output services` or the registry, or the image's digest", edit: { set: path, value: `${name}=<tag>` } });
        if (all.findIndex((p) => p.service === name) !== n) out.push({ file: c.source, path, message: `'${name}' is pinned twice`, fix: "keep one pin per service", edit: { rm: path } });
        return out;
    });
}

const pins: StackRule = {
    needs: ["machine", "pins"],
    check: (cfg, c) => pinIssues(cfg.pins.map((pin, index) => ({ index, pin })), cfg, c),
};

const bothLists: StackRule = {
    needs: ["enableServices", "disableServices"],
    check: (cfg, c) => cfg.enableServices.flatMap((name, i) => cfg.disableServices.includes(name)
        ? [{ file: c.source, path: at(`enableServices[${i}]`), message: `'${name}' is also in disableServices`, fix: "keep the service in one of the two lists", edit: { rm: at(`enableServices[${i}]`), or: `remove it from fleet:disableServices[${cfg.disableServices.indexOf(name)}]` } }]
        : []),
};

const cudaTrack: StackRule = {
    needs: ["machine", "gpu", "cudaTrack"],
    check: (cfg, c) => {
        const users = new Map<string, string[]>();
        for (const [name, svc] of Object.entries(c.fleet.services)) {
            if (cfg.gpu && svc.compute === "gpu" && svc.hosts.includes(cfg.machine)) users.set(svc.family, [...(users.get(svc.family) ?? []), name]);
        }
        return [...users].flatMap(([family, names]): FleetIssue[] => {
            const tracks = cudaTracks(c.fleet, family) ?? [];
            if (tracks.includes(cfg.cudaTrack) || tracks.length === 0) return [];
            return [{ file: c.source, path: at("cudaTrack"), message: `'${cfg.cudaTrack}' cannot build ${family} (it supports ${tracks.join(", ")}), which ${names.join(", ")} use`, fix: `use one of ${tracks.join(", ")}`, edit: { set: at("cudaTrack"), value: tracks.includes("cu121") ? "cu121" : tracks[0] } }];
        });
    },
};

const portOffset: StackRule = {
    needs: ["machine", "portOffset"],
    check: (cfg, c) => {
        let [highest, owner] = [0, ""];
        for (const [name, svc] of Object.entries(c.fleet.services)) {
            if (!svc.hosts.includes(cfg.machine)) continue;
            for (const [, p] of publishedPorts(svc.ports)) if (p > highest) [highest, owner] = [p, name];
        }
        return highest + cfg.portOffset > MAX_PORT
            ? [{ file: c.source, path: at("portOffset"), message: `${cfg.portOffset} moves ${owner}'s port ${highest} to ${highest + cfg.portOffset}, above ${MAX_PORT}`, fix: `use at most ${MAX_PORT - highest}`, edit: { set: at("portOffset"), value: String(MAX_PORT - highest) } }]
            : [];
    },
};

const peerStack: StackRule = {
    needs: ["machine", "peerStack", "org"],
    check: (cfg, c) => {
        const peers = Object.keys(c.fleet.hosts[cfg.machine].uses);
        if (peers.length === 0 || cfg.peerStack) return [];
        const peerName = `${cfg.org}/${CONFIG_NAMESPACE}/${peers[0]}`;
        return [{ file: c.source, path: at("peerStack"), message: `is missing: ${cfg.machine} uses services of ${peers.join(", ")}`, fix: `set it to the stack that deploys them, ${peerName}`, edit: { set: at("peerStack"), value: peerName } }];
    },
};

const advertise: StackRule = {
    needs: ["machine", "dockerHost", "advertiseAddress"],
    check: (cfg, c) => {
        const address = advertiseAddress(cfg);
        const edit = { set: at("advertiseAddress"), value: `<IP address of ${cfg.machine}>` };
        if (isIP(address) === 0) {
            return [{
                file: c.source, path: at("advertiseAddress"),
                message: cfg.advertiseAddress !== undefined ? `'${address}' is not an IP address; published ports are bound to one IP address (CIS Docker 5.14)`
                    : `is missing: '${address}', the host of fleet:dockerHost, is a name, and published ports are bound to one IP address (CIS Docker 5.14)`,
                fix: `set it to the IP address other hosts reach ${cfg.machine} at`, edit,
                // Missing, not wrong: the committed stacks leave the host's address to the operator.
                ...(cfg.advertiseAddress === undefined ? { unknown: { key: "advertiseAddress", placeholder: `<${cfg.machine} IP>` } } : {}),
            }];
        }
        if (/^(0\.0\.0\.0|::|0:0:0:0:0:0:0:0)$/.test(address)) return [{ file: c.source, path: at("advertiseAddress"), message: `'${address}' binds every interface of the host (CIS Docker 5.14)`, fix: `set it to the one IP address other hosts reach ${cfg.machine} at`, edit }];
        return [];
    },
};

const gpuWithoutGpu: StackRule = {
    needs: ["machine", "gpu"],
    check: (cfg, c) => (cfg.gpu && c.fleet.hosts[cfg.machine].gpu === null
        ? [{ file: c.source, path: at("gpu"), message: `is true but host '${cfg.machine}' has no GPU (no gpu in hosts.yaml)`, fix: "remove it: a host without a GPU needs no fleet:gpu", edit: { rm: at("gpu") } }]
        : []),
};

/** The address other hosts use for this one (see `advertiseAddress` in stackSchema.ts). */
export function advertiseAddress(cfg: Pick<StackConfig, "advertiseAddress" | "dockerHost">): string {
    if (cfg.advertiseAddress) return cfg.advertiseAddress;
    const m = /^(?:ssh|tcp):\/\/(?:[^@/]+@)?([^:/]+)/.exec(cfg.dockerHost);
    return m ? m[1] : "127.0.0.1";
}

export const STACK_RULES: StackRule[] = [serviceList("enableServices"), serviceList("disableServices"), pins, gpuAsked, bothLists, cudaTrack, portOffset, peerStack, advertise, gpuWithoutGpu];
