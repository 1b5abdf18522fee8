/**
 * `npm run fleet -- <command>`: the operator's view of the fleet model, without Pulumi.
 *
 *   validate [--fleet DIR]              every problem of the data, or a one-line summary
 *   plan <stack> [--fleet DIR]          the host plan of Pulumi.<stack>.yaml as a table
 *   check-stack <stack> [--fleet DIR]   what `pulumi up` would refuse in the stack's config, all at once
 *   diagram [--out FILE] [--fleet DIR]  the family and placement diagrams (docs/fleet-diagrams.md)
 *   image-targets <stack>               URNs for `pulumi up --target` of the stack's images alone
 *   lock-targets [--fleet DIR]          per service: python version, requirements .in, hash-locked .txt, family image
 *   build-lock <export.json|->          build-lock.json from `pulumi stack export`
 *   dockerfiles [--out DIR] [--fleet DIR] [--cuda TRACK]
 *                                       every family's and service's Dockerfile, for review
 *
 * Exit codes: 0 fine, 1 the data or config has problems, 2 the command line is wrong.
 */
import * as fs from "fs";
import * as path from "path";
import { familySpec, serviceSpec } from "./model/images";
import { renderFamily, renderService, renderServiceIgnore } from "./render/dockerfile";
import { renderDiagrams } from "./render/diagram";
import { imageTargetUrns } from "./imageplan/buildPlan";
import { buildLock, lockTargets } from "./imageplan/lock";
import { CUDA_TRACKS, CudaTrack } from "./model/schema";
import { FleetError } from "./model/issues";
import { DEFAULT_FLEET_DIR, loadFleet } from "./model/load";
import { HostPlan, planHost } from "./model/plan";
import { rollbackPins } from "./model/rollback";
import { fleetKeys, parseStackConfig, StackConfig } from "./model/stack";
import { checkStack } from "./pulumi/checkStack";
import { loadStack } from "./pulumi/load";
import { FleetData } from "./model/schema";
import { byName } from "./model/names";

export const PROJECT_DIR = path.resolve(__dirname, "..");
/** The committed diagrams, relative to the project. */
export const DIAGRAM_FILE = "docs/fleet-diagrams.md";

export interface CliIO {
    out: (line: string) => void;
    err: (line: string) => void;
}

class UsageError extends Error {}

const USAGE = [
    "usage: npm run fleet -- <command> [options]",
    "  validate [--fleet DIR]        check the fleet data; prints every problem",
    "  plan <stack> [--fleet DIR]    print the plan of Pulumi.<stack>.yaml",
    "  check-stack <stack> [--fleet DIR]    check the stack's config as `pulumi up` would, every problem with its fix",
    "  diagram [--out FILE] [--fleet DIR]   write the diagrams (default docs/fleet-diagrams.md)",
    "  image-targets <stack> [--fleet DIR]  print the URNs that build the stack's images alone",
    "  lock-targets [--fleet DIR]           print service, python, requirements .in and .txt, family (scripts/lock-requirements.sh)",
    "  build-lock <export.json|->           print build-lock.json from `pulumi stack export`",
    "  dockerfiles [--out DIR] [--fleet DIR] [--cuda cu121]",
    "                                write every family's and service's Dockerfile (default out/dockerfiles)",
].join("\n");

interface Args {
    command: string;
    positional: string[];
    options: Record<string, string>;
    /** Every value of each option, in order (`--config` may be given more than once). */
    all: Record<string, string[]>;
}

/** Parses `cmd pos... --opt value`; every option takes a value. */
export function parseArgs(argv: readonly string[], allowed: readonly string[]): Args {
    const [command, ...rest] = argv;
    if (!command) throw new UsageError("no command given");
    const positional: string[] = [];
    const options: Record<string, string> = {};
    const all: Record<string, string[]> = {};
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if (!a.startsWith("--")) {
            positional.push(a);
            continue;
        }
        const key = a.slice(2);
        if (!allowed.includes(key)) throw new UsageError(`unknown option --${key}`);
        const value = rest[++i];
        if (value === undefined || value.startsWith("--")) throw new UsageError(`--${key} needs a value`);
        options[key] = value;
        (all[key] ??= []).push(value);
    }
    return { command, positional, options, all };
}

function pad(rows: string[][]): string[] {
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ").trimEnd());
}

function seconds(s: number): string {
    return s % 60 === 0 && s >= 60 ? `${s / 60}m` : `${s}s`;
}

/** The plan as the operator reads it: one row a container, then a summary. */
export function renderPlan(plan: HostPlan): string[] {
    const rows = [["SERVICE", "FAMILY", "PORTS (svc/health +metrics)", "GPU", "STARTS AFTER", "HEALTH"]];
    for (const c of plan.containers) {
        const ports = `${c.ports.service}/${c.ports.health}` + (c.ports.metrics.length ? ` +${c.ports.metrics.join(",")}` : "");
        const gpu = c.gpu ? `${c.gpu.capabilities.join(",")}:${c.gpu.deviceIds.join(",")}` : "-";
        const h = c.health;
        const health = `${h.kind} :${h.port}${h.kind === "http" ? h.path : ""} start ${seconds(h.startPeriodSeconds)} every ${seconds(h.startIntervalSeconds)}`;
        rows.push([c.service + (c.tier === "core" ? " (core)" : ""), c.family, ports, gpu, c.startAfter ?? "-", health]);
    }
    const perFamily = new Map<string, number>();
    for (const c of plan.containers) perFamily.set(c.family, (perFamily.get(c.family) ?? 0) + 1);
    const gpu = plan.containers.filter((c) => c.gpu?.capabilities.includes("gpu"));
    const lines = [
        `plan for ${plan.machine} (port offset ${plan.portOffset}, CUDA ${plan.cudaTrack})`,
        "",
        ...pad(rows),
        "",
        `${plan.containers.length} containers; families in build order: ${plan.families.join(", ")}`,
        "per family: " + [...perFamily].sort(([a], [b]) => byName(a, b)).map(([f, n]) => `${f} ${n}`).join(", "),
        `GPU services (${gpu.length}): ${gpu.map((c) => c.service).join(", ") || "none"}`,
        `start: core, then the rest; ${plan.startLanes} containers of a tier at a time, each after the one ${plan.startLanes} before it is healthy (STARTS AFTER)`,
    ];
    if (plan.excluded.length === 0) lines.push("not deployed: none");
    else {
        lines.push(`not deployed (${plan.excluded.length}):`);
        for (const e of plan.excluded) lines.push(`  ${e.service}: ${e.kind}: ${e.reason}`);
    }
    return lines;
}

function summary(d: FleetData): string {
    const placements = Object.values(d.services).reduce((n, s) => n + s.hosts.length, 0);
    return `fleet data is valid: ${Object.keys(d.services).length} services (${placements} placements) on ${Object.keys(d.hosts).length} hosts, ${Object.keys(d.families).length} families`;
}

/** Renders every family and every service (of every host): images are machine-neutral. */
export function writeDockerfiles(d: FleetData, out: string, track: CudaTrack): { families: number; services: number } {
    fs.mkdirSync(out, { recursive: true });
    const families = Object.keys(d.families).map((f) => familySpec(d, f, track));
    for (const f of families) fs.writeFileSync(path.join(out, `${f.repository}.Dockerfile`), renderFamily(f));
    const services = Object.keys(d.services).map((s) => serviceSpec(d, s)).filter((s) => !s.dockerfileOverride);
    for (const s of services) {
        fs.writeFileSync(path.join(out, `${s.repository}.Dockerfile`), renderService(s));
        fs.writeFileSync(path.join(out, `${s.repository}.Dockerfile.dockerignore`), renderServiceIgnore(s));
    }
    return { families: families.length, services: services.length };
}

/** The stack's `fleet:` config as `pulumi up` merges it (secrets are not needed to plan), and its plan. */
function stackPlan(projectDir: string, stack: string, data: FleetData): { cfg: StackConfig; plan: HostPlan } {
    const source = `Pulumi.${stack}.yaml`;
    const cfg = parseStackConfig(fleetKeys(loadStack(projectDir, stack).config), data, source);
    return { cfg, plan: planHost(data, cfg, rollbackPins(data, cfg, projectDir, stack, source)) };
}

/** Runs one command; returns the exit code. */
export function runCli(argv: readonly string[], io: CliIO, projectDir = PROJECT_DIR): number {
    try {
        const args = parseArgs(argv, ["fleet", "out", "cuda", "app-repo", "config"]);
        const dir = args.options.fleet ? path.resolve(args.options.fleet) : DEFAULT_FLEET_DIR;
        switch (args.command) {
            case "validate": {
                if (args.positional.length) throw new UsageError("validate takes no arguments");
                io.out(summary(loadFleet(dir)));
                return 0;
            }
            case "plan": {
                if (args.positional.length !== 1) throw new UsageError("plan needs exactly one stack name, e.g. plan mainpc");
                const data = loadFleet(dir);
                renderPlan(stackPlan(projectDir, args.positional[0], data).plan).forEach((l) => io.out(l));
                return 0;
            }
            case "check-stack": {
                if (args.positional.length !== 1) throw new UsageError("check-stack needs exactly one stack name, e.g. check-stack local");
                const stack = args.positional[0];
                // --config FILE: an override file (a stack file's shape) on top, as `pulumi config set` would write it;
                // --app-repo DIR: a checkout of the application repository in place of fleet:appRepo.
                const r = checkStack(projectDir, stack, { fleetDir: dir, overrides: (args.all.config ?? []).map((f) => path.resolve(f)), appRepo: args.options["app-repo"] });
                if (r.issues.length) throw new FleetError(r.issues);
                io.out(`Pulumi.${stack}.yaml: stack '${stack}' loads as \`pulumi up\` loads it: ${r.keys} keys, ${r.defaults} of them Pulumi.yaml defaults; the fleet: config is valid; the application repository holds what its ${r.checkedServices} services are built from`);
                return 0;
            }
            case "image-targets": {
                if (args.positional.length !== 1) throw new UsageError("image-targets needs exactly one stack name");
                const data = loadFleet(dir);
                const { cfg, plan } = stackPlan(projectDir, args.positional[0], data);
                imageTargetUrns(data, plan, args.positional[0], cfg.cudaTrack).forEach((u) => io.out(u));
                return 0;
            }
            case "lock-targets": {
                if (args.positional.length) throw new UsageError("lock-targets takes no arguments");
                lockTargets(loadFleet(dir)).forEach((t) => io.out(`${t.service} ${t.python} ${t.input} ${t.output} ${t.family}`));
                return 0;
            }
            case "build-lock": {
                if (args.positional.length !== 1) throw new UsageError("build-lock needs the export file, or - for standard input");
                const text = fs.readFileSync(args.positional[0] === "-" ? 0 : args.positional[0], "utf8");
                io.out(JSON.stringify(buildLock(JSON.parse(text)), null, 2));
                return 0;
            }
            case "diagram": {
                if (args.positional.length) throw new UsageError("diagram takes no arguments");
                const out = path.resolve(args.options.out ?? path.join(projectDir, DIAGRAM_FILE));
                fs.mkdirSync(path.dirname(out), { recursive: true });
                fs.writeFileSync(out, renderDiagrams(loadFleet(dir)));
                io.out(`wrote ${out}`);
                return 0;
            }
            case "dockerfiles": {
                if (args.positional.length) throw new UsageError("dockerfiles takes no arguments");
                const track = args.options.cuda ?? "cu121";
                if (!(CUDA_TRACKS as readonly string[]).includes(track)) throw new UsageError(`--cuda must be one of ${CUDA_TRACKS.join(", ")}`);
                const out = path.resolve(args.options.out ?? path.join(projectDir, "out", "dockerfiles"));
                const written = writeDockerfiles(loadFleet(dir), out, track as CudaTrack);
                io.out(`wrote ${written.families} family and ${written.services} service Dockerfiles to ${out}`);
                return 0;
            }
            default:
                throw new UsageError(`unknown command '${args.command}'`);
        }
    } catch (e) {
        if (e instanceof FleetError) {
            io.err(e.message);
            return 1;
        }
        if (e instanceof UsageError) {
            io.err(`fleet: ${e.message}\n${USAGE}`);
            return 2;
        }
        throw e;
    }
}

if (require.main === module) {
    process.exitCode = runCli(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) });
}
