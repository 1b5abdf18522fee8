/**
 * Runs the real program (`index.ts`) under Pulumi's mocks and records every resource it
 * registers, with its exact inputs, so tests can assert what exists and what must not.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { Decrypt, MergedStack } from "../fleet/pulumi/config";
import { loadStack } from "../fleet/pulumi/load";

export interface Registered {
    type: string;
    name: string;
    inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    provider?: string;
    /** Resource options as the engine receives them. */
    opts: {
        parent: string;
        dependencies: string[];
        retainOnDelete: boolean;
        /** Undefined when the program leaves it to the provider (the SDK's `deleteBeforeReplaceDefined`). */
        deleteBeforeReplace: boolean | undefined;
        replaceOnChanges: string[];
    };
    /** Top-level inputs whose value is, or holds, an unknown (a preview); the mocks hand them over as undefined. */
    unknownInputs?: string[];
}

/** Whether a registration's input value is, or holds, the SDK's unknown sentinel. */
function holdsUnknown(v: unknown): boolean {
    if (v === pulumi.runtime.unknownValue) return true;
    if (Array.isArray(v)) return v.some(holdsUnknown);
    if (v && typeof v === "object") return Object.values(v).some(holdsUnknown);
    return false;
}



interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getRetainondelete(): boolean | undefined;
    getDeletebeforereplace(): boolean;
    getDeletebeforereplacedefined(): boolean;
    getReplaceonchangesList(): string[];
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

export interface RunResult {
    resources: Registered[];
    outputs: Record<string, unknown>;
    stack: string;
    /** URNs the mock monitor gave, by `type::name` (see engineUrns for the engine's form). */
    urns: Map<string, string>;
}

export const PROJECT_DIR = path.join(__dirname, "..");

/**
 * The tests' stand-in for a stack's secrets provider (a passphrase or a KMS in real stacks):
 * override files hold secrets as `secure: test:<base64>`.
 */
export const testSecrets: Decrypt = (ciphertext, key) => {
    const m = /^test:([A-Za-z0-9+/=]+)$/.exec(ciphertext);
    if (!m) throw new Error(`${key}: '${ciphertext}' is not a test ciphertext (test:<base64>)`);
    return Buffer.from(m[1], "base64").toString("utf8");
};

/**
 * The config `pulumi up --stack <stack>` hands the program, through the CLI's rules
 * (fleet/pulumi/load.ts): Pulumi.yaml, the committed Pulumi.<stack>.yaml, then override
 * files, each a stack file's shape: a bare name is `test/fixtures/stacks/<name>.yaml`, anything
 * with a slash a path from the project directory. The only way tests get stack config
 * (test/config-source.test.ts fails on any other).
 */
export function stackConfig(stack: string, ...overrides: string[]): MergedStack {
    return projectStackConfig(PROJECT_DIR, stack, ...overrides);
}

/** `stackConfig` of a stack of another project directory (see `projectWith`); overrides as there. */
export function projectStackConfig(projectDir: string, stack: string, ...overrides: string[]): MergedStack {
    const files = overrides.map((o) => path.resolve(PROJECT_DIR, o.includes("/") ? o : path.join("test", "fixtures", "stacks", `${o}.yaml`)));
    return loadStack(projectDir, stack, { overrides: files, decrypt: testSecrets });
}

/**
 * A project directory for a host the real data lacks: a copy of Pulumi.yaml and the committed
 * stack files, plus `stackFiles` (e.g. test/fixtures/fleet-pc3/Pulumi.pc3.yaml), each loaded
 * with the CLI's rules like the committed ones.
 */
export function projectWith(...stackFiles: string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-project-"));
    const committed = fs.readdirSync(PROJECT_DIR).filter((f) => /^Pulumi(\.[^.]+)?\.yaml$/.test(f)).map((f) => path.join(PROJECT_DIR, f));
    for (const f of [...committed, ...stackFiles.map((x) => path.resolve(PROJECT_DIR, x))]) fs.copyFileSync(f, path.join(dir, path.basename(f)));
    return dir;
}

/**
 * An override file for the one value no committed file can hold: the path of a temporary copy
 * of the fixture application, which the engine tests change to prove one-image rebuilds. It is
 * loaded like any other override (the CLI's rules apply); this is `pulumi config set
 * fleet:appRepo <copy>` for a test.
 */
export function appRepoOverride(appRepo: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-app-override-")), "app-repo.yaml");
    fs.writeFileSync(file, `# written by test/mocks.ts appRepoOverride: a temporary copy of the fixture application\n${stringify({ config: { "fleet:appRepo": appRepo } })}`);
    return file;
}

/**
 * An override file pinning services for rollback (`pulumi config set --path 'fleet:pins[0]' ...`),
 * loaded like any other override.
 */
export function pinsOverride(pins: string[]): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-pins-override-")), "pins.yaml");
    fs.writeFileSync(file, `# written by test/mocks.ts pinsOverride: a rollback\n${stringify({ config: { "fleet:pins": pins } })}`);
    return file;
}

/** An override file rolling every service back to a build lock (`pulumi config set fleet:pinAll <lock>`). */
export function pinAllOverride(lock: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-pin-all-override-")), "pin-all.yaml");
    fs.writeFileSync(file, `# written by test/mocks.ts pinAllOverride: a rollback of everything\n${stringify({ config: { "fleet:pinAll": lock } })}`);
    return file;
}

/** An override file giving the images another registry namespace (the benchmark's fresh cache). */
export function orgOverride(org: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-org-override-")), "org.yaml");
    fs.writeFileSync(file, `# written by test/mocks.ts orgOverride\n${stringify({ config: { "fleet:org": org } })}`);
    return file;
}

/** An override file setting `fleet:startLanes` (the benchmark's start policies). */
export function startLanesOverride(lanes: number): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-lanes-override-")), "lanes.yaml");
    fs.writeFileSync(file, `# written by test/mocks.ts startLanesOverride\n${stringify({ config: { "fleet:startLanes": lanes } })}`);
    return file;
}

/**
 * The README runbook's first-deploy settings of each host, as the operator sets them
 * (test/fixtures/stacks/runbook-<host>.yaml, loaded with the CLI's rules): its LAN address.
 */
export const RUNBOOK_CONFIG: Record<string, Record<string, string>> = Object.fromEntries(["mainpc", "pc2"].map((stack) => {
    const file = path.join(PROJECT_DIR, "test", "fixtures", "stacks", `runbook-${stack}.yaml`);
    const doc = parse(fs.readFileSync(file, "utf8")) as { config: Record<string, string> };
    return [stack, doc.config];
}));

/** The committed stack with the fixture application and, for mainpc and pc2, the runbook's settings. */
export function runbookStack(stack: string, ...overrides: string[]): MergedStack {
    return stackConfig(stack, "fixture-app", ...(stack in RUNBOOK_CONFIG ? [`runbook-${stack}`] : []), ...overrides);
}

async function resolve(v: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(v)) {
        // A preview's unknown never reaches an apply: it is returned as the SDK's sentinel.
        if (!(await (v as unknown as { isKnown: Promise<boolean> }).isKnown)) return pulumi.runtime.unknownValue;
        return new Promise((res) => (v as pulumi.Output<unknown>).apply((x) => { res(x); return x; }));
    }
    if (Array.isArray(v)) return Promise.all(v.map(resolve));
    if (v && typeof v === "object") return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await resolve(x)])));
    return v;
}

/** URNs of the latest run's resources, by `type::name`. */
export let lastUrns = new Map<string, string>();

/**
 * URNs as the Pulumi engine writes them: the type part is the whole chain of parent types
 * (`HostImages$FamilyImage$Image`). The mock monitor keeps only the immediate parent's type,
 * so the chain is rebuilt here from the recorded parents.
 */
export function engineUrns(stack: string, rs: Registered[], mockUrns: Map<string, string> = lastUrns): Map<string, string> {
    const byMockUrn = new Map<string, Registered>();
    for (const r of rs) {
        const urn = mockUrns.get(`${r.type}::${r.name}`);
        if (urn) byMockUrn.set(urn, r);
    }
    const chain = (r: Registered): string => {
        const parent = byMockUrn.get(r.opts.parent);
        return parent ? `${chain(parent)}$${r.type}` : r.type;
    };
    return new Map(rs.map((r) => [`${r.type}::${r.name}`, `urn:pulumi:${stack}::fleet::${chain(r)}::${r.name}`]));
}

/** Gives a registered resource its id and outputs. */
export type ResourceHandler = (r: Registered & { custom: boolean }) => Promise<{ id: string; state: Record<string, unknown> }>;

const mockHandler: ResourceHandler = async (r) => ({ id: `${r.name}-id`, state: { ...r.inputs, ...mockOutputs(r.type, r.name, r.inputs) } });

/**
 * Runs index.ts for the stack of `config` (from `stackConfig`). `handler` may replace the mock outputs to give
 * resources real ids and outputs (the engine harness does).
 */
export async function runProgram(config: MergedStack, opts: { preview?: boolean; handler?: ResourceHandler; projectDir?: string } = {}): Promise<RunResult> {
    const stack = config.stack;
    const resources: Registered[] = [];
    const options = new Map<string, Registered["opts"]>();
    const unknowns = new Map<string, string[]>();
    const urns = new Map<string, string>();
    lastUrns = urns;
    const handler = opts.handler ?? mockHandler;
    // A resource that fails leaves the outputs that depend on it unresolved forever: the run
    // fails with the first such error instead of waiting for them.
    let fail: (e: unknown) => void = () => undefined;
    let stopped = false;
    const failed = (e: unknown) => { stopped = true; fail(e); };
    const inflight = new Set<Promise<unknown>>();
    const failure = new Promise<never>((_, reject) => { fail = reject; });
    pulumi.runtime.setMocks({
        newResource: async (args) => {
            // Reads (a StackReference) do not pass through registerResource: they have no options.
            const opts = options.get(`${args.type}::${args.name}`) ?? { parent: "", dependencies: [], retainOnDelete: false, deleteBeforeReplace: undefined, replaceOnChanges: [] };
            const unknownInputs = unknowns.get(`${args.type}::${args.name}`);
            const r: Registered = { type: args.type, name: args.name, inputs: args.inputs, provider: args.provider, opts, ...(unknownInputs?.length ? { unknownInputs } : {}) };
            resources.push(r);
            // After a failed step the engine starts no other (pkg/resource/deploy/step_executor.go:
            // a failed step cancels the executor; the steps under way finish).
            if (stopped) throw new Error(`${args.type} ${args.name}: not started, an earlier step failed`);
            const work = handler({ ...r, custom: args.custom ?? true });
            inflight.add(work);
            try {
                return await work;
            } catch (e) {
                failed(e);
                throw e;
            } finally {
                inflight.delete(work);
            }
        },
        call: (args) => args.inputs,
    }, "fleet", stack, opts.preview ?? false);
    // The mocks API hands newResource the inputs only; the options come from the request.
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: RegisterRequest, cb: unknown) => unknown };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
        options.set(`${req.getType()}::${req.getName()}`, {
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            retainOnDelete: req.getRetainondelete() ?? false,
            deleteBeforeReplace: req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : undefined,
            replaceOnChanges: req.getReplaceonchangesList(),
        });
        const object = req.getObject()?.toJavaScript() ?? {};
        unknowns.set(`${req.getType()}::${req.getName()}`, Object.keys(object).filter((k) => holdsUnknown(object[k])));
        return register(req, (err: unknown, resp: { getUrn(): string } | undefined) => {
            if (resp) urns.set(`${req.getType()}::${req.getName()}`, resp.getUrn());
            (cb as (e: unknown, r: unknown) => void)(err, resp);
        });
    };
    pulumi.runtime.setAllConfig(config.config, config.secretKeys);
    // The environment `pulumi up` runs the program in: the project directory as working directory
    // (the engine's getPwdMain), and what scripts/local-up and the workflows export (index.ts).
    const projectDir = opts.projectDir ?? PROJECT_DIR;
    const cwd = process.cwd();
    process.chdir(projectDir);
    process.env.BUILDX_NO_DEFAULT_ATTESTATIONS = "1";
    const entry = require.resolve(path.join(projectDir, "index"));
    for (const k of Object.keys(require.cache)) if (k === entry) delete require.cache[k];
    let mod: Record<string, unknown>;
    try {
        mod = require(entry) as Record<string, unknown>; // eslint-disable-line @typescript-eslint/no-require-imports
    } catch (e) {
        process.chdir(cwd);
        throw e;
    }
    // An error inside the SDK (an apply that throws, a registration that fails before it
    // reaches the handler) surfaces only as an unhandled rejection.
    const onUnhandled = (e: unknown) => failed(e);
    process.on("unhandledRejection", onUnhandled);
    try {
        return { ...(await settle(mod, failure, inflight, resources)), stack, urns };
    } finally {
        process.off("unhandledRejection", onUnhandled);
        process.chdir(cwd);
    }
}

async function settle(mod: Record<string, unknown>, failure: Promise<never>, inflight: Set<Promise<unknown>>, resources: Registered[]): Promise<Pick<RunResult, "resources" | "outputs">> {
    try {
        const outputs = (await Promise.race([resolve({ ...mod }), failure])) as Record<string, unknown>;
        // Exports can resolve before every resource is done (a container waiting to turn healthy
        // is not among them): the run ends when no registration is in flight any more.
        for (;;) {
            await new Promise((r) => setTimeout(r, 50));
            if (inflight.size === 0) break;
            await Promise.race([Promise.allSettled([...inflight]), failure]);
        }
        return { resources, outputs };
    } catch (e) {
        // The registrations already at the handler (other builds, containers turning healthy)
        // finish first: otherwise they complete during the next run and report to its monitor,
        // which fails that run with "unknown resource" on this run's URNs.
        while (inflight.size > 0) await Promise.allSettled([...inflight]);
        await new Promise((r) => setTimeout(r, 50));
        throw e;
    }
}

/** Outputs of the stacks a program may reference, by stack name; tests set them. */
/**
 * Outputs of the stacks a program reads through a StackReference, by stack name. MainPC's
 * endpoints are there from the start, so that pc2's program runs in any test file, in any order.
 */
export const PEER_OUTPUTS: Record<string, Record<string, unknown>> = {
    "ai-system/fleet/mainpc": { endpoints: { ServiceRegistry: "192.0.2.16:7200", SystemDigitalTwin: "192.0.2.16:7220", ModelOpsCoordinator: "192.0.2.16:7212", UnifiedObservabilityCenter: "192.0.2.16:9100" } },
};

/** Outputs a real provider computes, so dependent inputs see plausible values. */
/**
 * The provider's auto-name of a resource the program names not (pulumi-terraform-bridge
 * info/autonaming.go: the resource name, "-", 7 hex digits): random there, from the resource
 * name here, so that tests can name it.
 */
export function mockAutoName(name: string): string {
    return `${name}-${createHash("sha256").update(name).digest("hex").slice(0, 7)}`;
}

function mockOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case "docker-build:index:Image": {
            const tags = (inputs.tags as string[] | undefined) ?? [];
            const digest = `sha256:${Buffer.from(name).toString("hex").padEnd(64, "0").slice(0, 64)}`;
            // The provider reads the digest from the build's metadata for a push and a load alike (image.go Create).
            return { digest, ref: `${tags[0]}@${digest}` };
        }
        case "docker:index/container:Container":
            return { name: inputs.name ?? mockAutoName(name) };
        case "docker:index/remoteImage:RemoteImage":
            return { imageId: `sha256:${createHash("sha256").update(String(inputs.name)).digest("hex")}`, repoDigest: String(inputs.name).includes("@") ? inputs.name : `${inputs.name}@sha256:${createHash("sha256").update(`digest:${inputs.name}`).digest("hex")}` };
        case "command:local:Command":
            return { stdout: `ran: ${inputs.create}`, stderr: "" };
        case "pulumi:pulumi:StackReference":
            return { outputs: PEER_OUTPUTS[String(inputs.name)] ?? {} };
        default:
            return {};
    }
}

/** A registration's `name` input, or its resource name where the provider names it (a service's container). */
export function nameOf(r: Registered): string {
    return r.inputs.name ?? r.name;
}

export function byType(rs: Registered[], type: string): Registered[] {
    return rs.filter((r) => r.type === type);
}

/** The value of a registered container's `fleet.role` label: host-front, resolver, peer-front; undefined for a service's. */
export function roleOf(r: Registered): string | undefined {
    return ((r.inputs.labels ?? []) as { label: string; value: string }[]).find((l) => l.label === "fleet.role")?.value;
}

/** Whether a registered container is one of the host front's (components/hostFront.ts, hostResolvers.ts): the front or a resolver. */
export function isFront(r: Registered): boolean {
    return roleOf(r) === "host-front" || roleOf(r) === "resolver";
}

/** Whether `r` is a peer front (components/peerFront.ts): another host's service on this host's network. */
export function isPeerFront(r: Registered): boolean {
    return ((r.inputs.labels ?? []) as { label: string; value: string }[]).some((l) => l.label === "fleet.role" && l.value === "peer-front");
}

/** The containers of the services and the proxy: the host front, its resolvers and peer fronts left out. */
export function runningContainers(rs: Registered[]): Registered[] {
    return byType(rs, "docker:index/container:Container").filter((r) => !isFront(r) && !isPeerFront(r));
}

/** Whether `r` waits for the resource `type::name`, or for that component's children. */
export function dependsOn(r: Registered, type: string, name: string): boolean {
    return r.opts.dependencies.some((u) => u.endsWith(`${type}::${name}`) || (u.includes(`${type}$`) && u.endsWith(`::${name}`)));
}
