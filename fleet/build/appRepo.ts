/**
 * Checks of the application repository a stack builds from: every planned service's
 * entrypoint, sources, requirements lock and Dockerfile override must exist, and the lock must
 * be hash-locked unless the service's data says why not. All problems are reported at once.
 */
import * as fs from "fs";
import * as path from "path";
import { FleetIssue } from "../model/issues";
import { ServiceImageSpec } from "../model/images";

/** A requirement line without `--hash=` (continuation lines carry the hashes of the line before). */
export function unhashedRequirements(text: string): string[] {
    const logical = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
    return logical
        .map((l) => l.replace(/(^|\s)#.*$/, "").trim())
        .filter((l) => l !== "" && !l.startsWith("-"))
        .filter((l) => !/--hash=sha256:[a-f0-9]{64}/.test(l))
        .map((l) => l.split(/\s/)[0]);
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
        const unhashed = unhashedRequirements(fs.readFileSync(req, "utf8"));
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
