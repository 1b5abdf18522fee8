/**
 * Real git repositories for `scripts/fleet diff`'s tests, laid out as the workflows check them
 * out: a workspace holding this project at `fleet/` (its Pulumi files, data, the families' build
 * context and the fixture application the local stack builds from) and the application
 * repository beside it at `AI_System_Monorepo/` (a copy of the fixture application), which
 * mainpc's and pc2's `fleet:appRepo: ../AI_System_Monorepo` name and `app-repo.yaml` pins.
 * Commits carry fixed dates, so tags depend on the content alone.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FIXTURE_APP } from "../../helpers";

const PROJECT = path.resolve(__dirname, "..", "..", "..");

export interface DiffRepo {
    project: string;
    app: string;
    /** The project's first commit. */
    base: string;
}

let day = 1;

/** `git -C dir args`, committing at a fixed date that moves one day per commit made here. */
export function git(dir: string, ...args: string[]): string {
    const date = `2025-09-${String(day).padStart(2, "0")}T12:00:00Z`;
    if (args[0] === "commit") day = day % 28 + 1;
    return execFileSync("git", ["-C", dir, ...args], {
        encoding: "utf8",
        env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t", GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    }).trim();
}

function commitAll(dir: string, message: string): string {
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", message);
    return git(dir, "rev-parse", "HEAD");
}

/** Writes app-repo.yaml pinning `ref`. */
export function pinApp(project: string, ref: string): void {
    fs.writeFileSync(path.join(project, "app-repo.yaml"), `repository: ai-system/AI_System_Monorepo\nref: "${ref}"\n`);
}

/** Replaces `from` by `to` in a file (it must hold `from`). */
export function edit(file: string, from: string, to: string): void {
    const text = fs.readFileSync(file, "utf8");
    if (!text.includes(from)) throw new Error(`${file} does not hold ${from}`);
    fs.writeFileSync(file, text.replace(from, to));
}

/** @param stacks the stack files the project commits */
export function diffRepo(stacks: string[] = ["local", "mainpc", "pc2"]): DiffRepo {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-ws-"));
    const app = path.join(workspace, "AI_System_Monorepo");
    fs.cpSync(FIXTURE_APP, app, { recursive: true });
    git(app, "init", "-q");
    const appSha = commitAll(app, "application");
    const project = path.join(workspace, "fleet");
    for (const f of ["Pulumi.yaml", ...stacks.map((s) => `Pulumi.${s}.yaml`)]) fs.cpSync(path.join(PROJECT, f), path.join(project, f));
    for (const d of ["fleet/data", "fleet/render/assets", "test/fixtures/app"]) fs.cpSync(path.join(PROJECT, d), path.join(project, d), { recursive: true });
    pinApp(project, appSha);
    git(project, "init", "-q");
    const base = commitAll(project, "base");
    git(project, "tag", "base");
    return { project, app, base };
}

/** Commits every change of `dir`; returns the commit. */
export function commit(dir: string, message: string): string {
    return commitAll(dir, message);
}

/** The runbook's host addresses, for mainpc and pc2: `--config <stack>=<file>`. */
export const RUNBOOK_ARGS = ["--config", `mainpc=${path.join(PROJECT, "test/fixtures/stacks/runbook-mainpc.yaml")}`, "--config", `pc2=${path.join(PROJECT, "test/fixtures/stacks/runbook-pc2.yaml")}`];
