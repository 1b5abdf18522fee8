/**
 * A throw-away project directory for the ops CLI's tests: the project's Pulumi files with
 * settings written into a stack file as `pulumi config set` writes them (the runbook's first
 * step for mainpc and pc2, then committed override files of test/fixtures/stacks), and `test/`
 * linked in, so the relative paths the fixtures name (the fixture application, a build lock)
 * resolve from the project as they do in the repository.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, parseDocument } from "yaml";
import { runCli, runCliAsync } from "../../../fleet/cli";
import { RUNBOOK_CONFIG } from "../../mocks";

const PROJECT = path.resolve(__dirname, "..", "..", "..");

/** @param overrides per stack, override files of test/fixtures/stacks by name, applied in order */
export function configuredProject(overrides: Record<string, string[]> = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-project-"));
    fs.copyFileSync(path.join(PROJECT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.symlinkSync(path.join(PROJECT, "test"), path.join(dir, "test"));
    for (const f of fs.readdirSync(PROJECT).filter((n) => /^Pulumi\.[^.]+\.yaml$/.test(n))) {
        const stack = f.split(".")[1];
        const doc = parseDocument(fs.readFileSync(path.join(PROJECT, f), "utf8"));
        const settings = [RUNBOOK_CONFIG[stack] ?? {}, ...(overrides[stack] ?? []).map((o) =>
            (parse(fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stacks", `${o}.yaml`), "utf8")) as { config: Record<string, unknown> }).config)];
        for (const s of settings) for (const [k, v] of Object.entries(s)) doc.setIn(["config", k], v);
        fs.writeFileSync(path.join(dir, f), String(doc));
    }
    return dir;
}

/** `scripts/fleet <argv>` against `projectDir`: exit code and the lines of each stream. */
export function runFleet(argv: string[], projectDir = PROJECT): { code: number; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    const code = runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, projectDir);
    return { code, out, err };
}

/** runFleet for a command that waits on the docker CLI (`sbom`). */
export async function runFleetAsync(argv: string[], projectDir = PROJECT): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCliAsync(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, projectDir);
    return { code, out, err };
}

/** The project's Pulumi files as a fresh clone has them (no host address set, no application repository beside it), and `test/` linked in. */
export function freshProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-fresh-"));
    for (const f of fs.readdirSync(PROJECT).filter((n) => /^Pulumi(\.[^.]+)?\.yaml$/.test(n))) fs.copyFileSync(path.join(PROJECT, f), path.join(dir, f));
    fs.symlinkSync(path.join(PROJECT, "test"), path.join(dir, "test"));
    return dir;
}
