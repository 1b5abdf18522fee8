/**
 * The fleet's guard rails as Pulumi policies, run on every preview and update with
 * `pulumi preview --policy-pack policy`: a change that breaks one of them fails before it
 * reaches a host. Pure functions of a resource's properties and the fleet data.
 */
import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { cudaTracks } from "../fleet/model/check";
import { loadFleet } from "../fleet/model/load";
import { FleetData } from "../fleet/model/schema";

const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const BUILD_IMAGE = "docker-build:index:Image";
const SUPERVISOR = "SelfHealingSupervisor";
const PROXY_ROLE = "docker-api-proxy";
const HOST_FRONT_ROLE = "host-front";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function labels(p: Props): Record<string, string> {
    return Object.fromEntries(((p.labels ?? []) as { label: string; value: string }[]).map((l) => [l.label, l.value]));
}

function containers(check: (p: Props, l: Record<string, string>, report: ReportViolation) => void) {
    return (args: ResourceValidationArgs, report: ReportViolation): void => {
        if (args.type === CONTAINER) check(args.props, labels(args.props), report);
    };
}

function who(l: Record<string, string>, p: Props): string {
    return l["fleet.service"] ?? (l["fleet.role"] === HOST_FRONT_ROLE ? `${l["fleet.machine"]}'s host front` : undefined) ?? l["fleet.role"] ?? String(p.name);
}

let fleetData: FleetData | undefined;
function fleet(): FleetData {
    return (fleetData ??= loadFleet());
}

export const fleetPolicies: ResourceValidationPolicy[] = [
    {
        name: "non-root-user",
        description: "Containers run as a non-root user (002 §A: 10001:10001); the Docker API proxy is the declared exception.",
        enforcementLevel: "mandatory",
        validateResource: containers((p, l, report) => {
            if (l["fleet.role"] === PROXY_ROLE) return;
            const user = String(p.user ?? "");
            if (user === "" || /^(0|root)(:|$)/.test(user)) report(`${who(l, p)} runs as '${user || "the image's user"}'; set user 10001:10001`);
        }),
    },
    {
        name: "healthcheck-present",
        description: "Every container has a healthcheck.",
        enforcementLevel: "mandatory",
        validateResource: containers((p, l, report) => {
            if (!p.healthcheck?.tests?.length) report(`${who(l, p)} has no healthcheck`);
        }),
    },
    {
        name: "read-only-rootfs",
        description: "Root filesystems are read-only unless the data declares why not (label fleet.rootfs-exception).",
        enforcementLevel: "mandatory",
        validateResource: containers((p, l, report) => {
            if (p.readOnly !== true && !l["fleet.rootfs-exception"]) report(`${who(l, p)} has a writable root filesystem and no declared exception`);
        }),
    },
    {
        name: "capabilities-dropped",
        description: "Containers drop every capability and add none.",
        enforcementLevel: "mandatory",
        validateResource: containers((p, l, report) => {
            if (!(p.capabilities?.drops ?? []).includes("ALL")) report(`${who(l, p)} does not drop ALL capabilities`);
            if ((p.capabilities?.adds ?? []).length > 0) report(`${who(l, p)} adds capabilities ${p.capabilities.adds.join(", ")}`);
            if (p.privileged === true) report(`${who(l, p)} is privileged`);
        }),
    },
    {
        name: "no-new-privileges",
        description: "Containers cannot gain privileges (setuid binaries, file capabilities).",
        enforcementLevel: "mandatory",
        validateResource: containers((p, l, report) => {
            if (!(p.securityOpts ?? []).includes("no-new-privileges:true")) report(`${who(l, p)} lacks no-new-privileges:true`);
        }),
    },
    {
        name: "gpu-requests-on-gpu-services",
        description: "GPU device requests only on services of a CUDA family, on a host with a GPU; utility-only (NVML) requests only on GPU hosts.",
        enforcementLevel: "mandatory",
        validateResource: containers((p, l, report) => {
            const requests = (p.deviceRequests ?? []) as { capabilities?: string[] }[];
            if (requests.length === 0) return;
            const host = fleet().hosts[l["fleet.machine"]];
            if (!host?.gpu) report(`${who(l, p)} requests a GPU on ${l["fleet.machine"] ?? "an unknown host"}, which has none`);
            const compute = requests.some((r) => (r.capabilities ?? []).some((c) => c !== "utility"));
            if (compute && !cudaTracks(fleet(), l["fleet.family"] ?? "")) report(`${who(l, p)} requests a GPU but its family '${l["fleet.family"]}' has no CUDA stack`);
        }),
    },
    {
        name: "docker-socket-only-for-the-supervisor",
        description: "Only the supervisor's Docker API proxy mounts docker.sock, and only the supervisor talks to it (002 P0.5).",
        enforcementLevel: "mandatory",
        validateResource: containers((p, l, report) => {
            const sources = [...(p.mounts ?? []).map((m: Props) => m.source), ...(p.volumes ?? []).map((v: Props) => v.hostPath)].filter(Boolean) as string[];
            if (sources.some((s) => s.includes("docker.sock")) && l["fleet.role"] !== PROXY_ROLE) report(`${who(l, p)} mounts the Docker socket`);
            const dockerHost = ((p.envs ?? []) as string[]).some((e) => e.startsWith("DOCKER_HOST="));
            if (dockerHost && l["fleet.service"] !== SUPERVISOR) report(`${who(l, p)} is given DOCKER_HOST; only ${SUPERVISOR} reaches the Docker API`);
        }),
    },
    {
        name: "host-network-only-for-the-front",
        description: "Only the host front shares the host's network namespace (CIS Docker 5.9, its one exception: docs/design.md, Replacing a container); no container shares another's, the host's IPC or PID namespace.",
        enforcementLevel: "mandatory",
        validateResource: containers((p, l, report) => {
            const mode = String(p.networkMode ?? "bridge");
            if (mode === "host" && l["fleet.role"] !== HOST_FRONT_ROLE) report(`${who(l, p)} shares the host's network namespace; only the host front may`);
            if (mode.startsWith("container:")) report(`${who(l, p)} shares the network namespace of ${mode.slice("container:".length)}`);
            for (const [key, what] of [["ipcMode", "IPC"], ["pidMode", "PID"]] as const) if (p[key] === "host") report(`${who(l, p)} shares the host's ${what} namespace`);
        }),
    },
    {
        name: "images-by-digest-never-latest",
        description: "Containers run an image by digest; no image is referenced or tagged `latest`.",
        enforcementLevel: "mandatory",
        validateResource: (args, report) => {
            const p = args.props;
            if (args.type === CONTAINER && !/^sha256:[a-f0-9]{64}$/.test(String(p.image)) && !String(p.image).includes("@sha256:")) {
                report(`${who(labels(p), p)} runs '${p.image}', not an image by digest`);
            }
            if (args.type === REMOTE_IMAGE && /(:latest|^[^:@]+)$/.test(String(p.name))) report(`${args.name} pulls '${p.name}': name a tag or digest other than latest`);
            if (args.type === BUILD_IMAGE) for (const t of (p.tags ?? []) as string[]) if (t.endsWith(":latest")) report(`${args.name} is tagged '${t}'`);
        },
    },
];
