/**
 * Checks of the application repository a stack builds from: every planned service's
 * entrypoint, sources, requirements lock and Dockerfile override must exist, and the lock must
 * be hash-locked unless the service's data says why not. All problems are reported at once;
 * a lock's fix is scripts/lock-requirements.sh (Debian has no pip-tools).
 */
import { inputFiles, RefusedLink } from "./inputs";
import * as fs from "fs";
import * as path from "path";
import { FleetIssue } from "../model/issues";
import { normalizeName, pinAccepts, ServiceImageSpec } from "../model/images";
import { requirementsInput } from "./lock";

/** A requirement line without `--hash=` (continuation lines carry the hashes of the line before). */
export function unhashedRequirements(text: string): string[] {
    const logical = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
    return logical
        .map((l) => l.replace(/(^|\s)#.*$/, "").trim())
        .filter((l) => l !== "" && !l.startsWith("-"))
        .filter((l) => !/--hash=sha256:[a-f0-9]{64}/.test(l))
        .map((l) => l.split(/\s/)[0]);
}

/** `name==version` requirements of a lock (hashes, markers and options aside). */
export function exactPins(text: string): { name: string; version: string }[] {
    const logical = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
    return logical.flatMap((l) => {
        const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)/.exec(l.replace(/(^|\s)#.*$/, "").trim());
        return m ? [{ name: m[1], version: m[2] }] : [];
    });
}

/**
 * A service lock holds only what the service adds to its family's one environment: a pin of a
 * family package at another version would replace the family's copy for this service (or, with
 * --no-deps, break it); at the same version it is a re-install the lock must not ask for.
 */
export function familyConflicts(spec: ServiceImageSpec, lockText: string, servicesFile: string): FleetIssue[] {
    const family = new Map(spec.familyPins.map((p) => [normalizeName(p.name), p]));
    return exactPins(lockText).flatMap((r): FleetIssue[] => {
        const f = family.get(normalizeName(r.name));
        if (!f) return [];
        const at = { file: servicesFile, path: `${spec.service}.requirements` };
        // A pin the family's version satisfies asks for nothing new (pip would keep the family's).
        return pinAccepts(r.version, f.version)
            ? [{ ...at, message: `${spec.requirements} pins ${r.name}==${r.version}, which its family already installs (${f.family} pins ${f.name}==${f.version})`, fix: "remove it: a service lock holds only what the service adds to its family (scripts/lock-requirements.sh)" }]
            : [{ ...at, message: `${spec.requirements} asks for ${r.name}==${r.version}, but its family installs ${f.name}==${f.version} (pinned by ${f.family})`, fix: `use ${f.name}==${f.version}, or change the pin in fleet/data/families.yaml for every service of ${f.family}` }];
    });
}

/** Where the checks' findings go and what their fixes name. */
export interface AppRepoContext {
    /** How services.yaml is named in messages. */
    servicesFile: string;
    /** The stack file that sets `fleet:appRepo`, e.g. `Pulumi.pc2.yaml`. */
    stackFile: string;
    /** `fleet:appRepo` as the stack gives it (relative paths start at the project directory). */
    given: string;
    /** `<registry>/<org>` of the family images scripts/lock-requirements.sh resolves in. */
    lockImages: string;
}

/** The command that (re)writes one service's lock (scripts/lock-requirements.sh's environment). */
function lockCommand(service: string, c: AppRepoContext): string {
    return `FLEET_LOCK_IMAGES=${c.lockImages} FLEET_LOCK_ONLY=${service} scripts/lock-requirements.sh ${c.given}`;
}

/**
 * Every planned service's entrypoint, sources, requirements lock (and, where it is missing,
 * the lock's input `requirements/<container>.in`, which scripts/lock-requirements.sh resolves)
 * and Dockerfile override must exist in the application repository at `appRepo` (absolute).
 * What the program checks before any resource, and what `scripts/fleet check-stack` checks.
 */
const LINK_PROBLEMS: Record<RefusedLink["problem"], { why: string; fix: string }> = {
    dangling: { why: "which does not exist: docker-build cannot hash the build context (\"unable to hash build context\")", fix: "point it at a file of the repository, or remove it" },
    outside: { why: "outside the application repository: an image takes the repository's files only", fix: "copy the file into the repository in its place, or remove the link" },
    loop: { why: "a directory it sits in, so it leads to itself", fix: "remove the link" },
};

/** The symbolic links among a service's inputs an image cannot take (inputs.ts resolves the others), each on the key that lists it. */
function refusedLinks(appRepo: string, s: ServiceImageSpec, c: AppRepoContext, shown: (p: string) => string): FleetIssue[] {
    const keys = [{ key: "entrypoint", p: s.entrypoint }, ...s.sources.map((p, i) => ({ key: `sources[${i}]`, p }))];
    const { refused } = inputFiles(appRepo, keys.map((k) => k.p));
    return refused.map((r) => {
        const key = keys.find((k) => r.rel === k.p.replace(/\/+$/, "") || r.rel.startsWith(`${k.p.replace(/\/+$/, "")}/`))?.key ?? "sources";
        const p = LINK_PROBLEMS[r.problem];
        return { file: c.servicesFile, path: `${s.service}.${key}`, message: `${shown(r.rel)} is a symbolic link to ${r.target}, ${p.why}`, fix: p.fix };
    });
}

export function checkAppRepo(appRepo: string, specs: ServiceImageSpec[], c: AppRepoContext): FleetIssue[] {
    const out: FleetIssue[] = [];
    const exists = (p: string) => fs.existsSync(path.join(appRepo, p));
    const shown = (p: string) => path.join(c.given, p);
    const missing = (svc: string, key: string, p: string, fix: string) =>
        out.push({ file: c.servicesFile, path: `${svc}.${key}`, message: `${shown(p)} does not exist in the application repository`, fix });
    if (!fs.existsSync(appRepo) || !fs.statSync(appRepo).isDirectory()) {
        const where = c.given === appRepo ? appRepo : `${c.given} (${appRepo})`;
        return [{ file: c.stackFile, path: "fleet:appRepo", message: `${where} is not a directory: the service images are built from a checkout of the application repository`, fix: "clone the application repository there, or point fleet:appRepo at its checkout", edit: { set: "fleet:appRepo", value: "<path of the checkout>" } }];
    }
    for (const s of specs) {
        if (s.dockerfileOverride !== undefined) {
            if (!exists(s.dockerfileOverride)) missing(s.service, "dockerfile", s.dockerfileOverride, "correct the path or remove `dockerfile` to use the generated one");
            continue;
        }
        if (!exists(s.entrypoint)) missing(s.service, "entrypoint", s.entrypoint, "correct the entrypoint path");
        for (const [i, src] of s.sources.entries()) {
            if (!exists(src)) missing(s.service, `sources[${i}]`, src, "correct the path, or set `sources` for this service");
        }
        out.push(...refusedLinks(appRepo, s, c, shown));
        const input = requirementsInput(s.requirements);
        if (!exists(s.requirements)) {
            out.push(exists(input)
                ? { file: c.servicesFile, path: `${s.service}.requirements`, message: `${shown(s.requirements)} does not exist in the application repository (its input ${input} does)`, fix: `lock it: ${lockCommand(s.service, c)}, and commit it` }
                : { file: c.servicesFile, path: `${s.service}.requirements`, message: `${shown(s.requirements)} does not exist in the application repository, nor its input ${input}`, fix: `list what ${s.service} adds to its family in ${shown(input)}, then ${lockCommand(s.service, c)}; or commit an empty ${s.requirements} if it needs nothing beyond its family` });
            continue;
        }
        const lockText = fs.readFileSync(path.join(appRepo, s.requirements), "utf8");
        out.push(...familyConflicts(s, lockText, c.servicesFile));
        const unhashed = unhashedRequirements(lockText);
        if (unhashed.length > 0 && s.unhashedReason === undefined) {
            out.push({
                file: c.servicesFile, path: `${s.service}.requirements`,
                message: `${shown(s.requirements)} is not hash-locked (${unhashed.join(", ")} without --hash)`,
                fix: exists(input) ? `regenerate it from ${input}: ${lockCommand(s.service, c)}; or set allowUnhashed with the reason`
                    : `write its input ${shown(input)}, then ${lockCommand(s.service, c)}; or set allowUnhashed with the reason`,
            });
        }
    }
    return out;
}
