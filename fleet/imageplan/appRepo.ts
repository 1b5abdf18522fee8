/**
 * Checks of the application repository a stack builds from: every planned service's
 * entrypoint, sources, requirements lock and Dockerfile override must exist, and the lock must
 * be hash-locked unless the service's data says why not. All problems are reported at once.
 */
import * as fs from "fs";
import * as path from "path";
import { FleetIssue } from "../model/issues";
import { normalizeName, ServiceImageSpec } from "../model/images";

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
        return f.version === r.version
            ? [{ ...at, message: `${spec.requirements} pins ${r.name}==${r.version}, which its family already installs (${f.family} pins ${f.name}==${f.version})`, fix: "remove it: a service lock holds only what the service adds to its family (scripts/lock-requirements.sh)" }]
            : [{ ...at, message: `${spec.requirements} asks for ${r.name}==${r.version}, but its family installs ${f.name}==${f.version} (pinned by ${f.family})`, fix: `use ${f.name}==${f.version}, or change the pin in fleet/data/families.yaml for every service of ${f.family}` }];
    });
}

export function checkAppRepo(appRepo: string, specs: ServiceImageSpec[], servicesFile: string): FleetIssue[] {
    const out: FleetIssue[] = [];
    const shown = (p: string) => path.join(appRepo, p);
    const missing = (svc: string, key: string, p: string, fix: string) =>
        out.push({ file: servicesFile, path: `${svc}.${key}`, message: `${shown(p)} does not exist in the application repository`, fix });
    if (!fs.existsSync(appRepo) || !fs.statSync(appRepo).isDirectory()) {
        return [{ file: "stack config", path: "fleet:appRepo", message: `${appRepo} is not a directory`, fix: "point fleet:appRepo at a checkout of the application repository" }];
    }
    for (const s of specs) {
        if (s.dockerfileOverride !== undefined) {
            if (!fs.existsSync(shown(s.dockerfileOverride))) missing(s.service, "dockerfile", s.dockerfileOverride, "correct the path or remove `dockerfile` to use the generated one");
            continue;
        }
        if (!fs.existsSync(shown(s.entrypoint))) missing(s.service, "entrypoint", s.entrypoint, "correct the entrypoint path");
        for (const [i, src] of s.sources.entries()) {
            if (!fs.existsSync(shown(src))) missing(s.service, `sources[${i}]`, src, "correct the path, or set `sources` for this service");
        }
        const req = shown(s.requirements);
        if (!fs.existsSync(req)) {
            missing(s.service, "requirements", s.requirements, "generate the lock with `pip-compile --generate-hashes`, or commit an empty file if the service needs nothing beyond its family");
            continue;
        }
        const lockText = fs.readFileSync(req, "utf8");
        out.push(...familyConflicts(s, lockText, servicesFile));
        const unhashed = unhashedRequirements(lockText);
        if (unhashed.length > 0 && s.unhashedReason === undefined) {
            out.push({
                file: servicesFile, path: `${s.service}.requirements`,
                message: `${req} is not hash-locked (${unhashed.join(", ")} without --hash)`,
                fix: "regenerate it with `pip-compile --generate-hashes`, or set allowUnhashed with the reason",
            });
        }
    }
    return out;
}
