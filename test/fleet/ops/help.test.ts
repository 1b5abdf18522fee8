/** `scripts/fleet help`, `--help`, `<command> --help`, and what a mistyped command is told. */
import * as assert from "assert";
import { RUN } from "../../../fleet/ops/commands";
import { closestCommand, COMMANDS, commandHelp, findCommand, STACK_OPTION_NAMES, usage } from "../../../fleet/ops/help";
import { runFleet } from "./project";

describe("scripts/fleet help", () => {
    it("help, --help and -h print the command list on stdout, exit 0", () => {
        for (const argv of [["help"], ["--help"], ["-h"]]) {
            assert.deepStrictEqual(runFleet(argv), { code: 0, out: usage(), err: [] }, argv.join(" "));
        }
        const list = usage();
        assert.strictEqual(list[0], "usage: scripts/fleet <command> [arguments]   (or: npm run fleet -- <command>)");
        assert.strictEqual(list.find((l) => l.includes(" plan <stack>")), "  plan <stack> [--json] [stack options]                  what the stack runs: per container its image, pin, address, ports, GPU, limits, start, health");
        for (const c of COMMANDS) assert.ok(list.some((l) => l.startsWith(`  ${c.synopsis} `)), c.name);
        // One set of options for every command that evaluates a stack, said once under the list.
        assert.deepStrictEqual(COMMANDS.filter((c) => c.stack).map((c) => c.name), ["check-stack", "plan", "image-targets", "rollback", "publish-sboms", "diff"]);
        for (const c of COMMANDS.filter((x) => x.stack)) for (const o of STACK_OPTION_NAMES) assert.ok(c.options.includes(o), `${c.name} --${o}`);
        assert.ok(list.includes("stack options, the same for every command that evaluates a stack: [--config [STACK=]FILE]... [--app-repo DIR] [--fleet DIR]"));
        assert.strictEqual(commandHelp(findCommand("plan")!)[0], "usage: scripts/fleet plan <stack> [--json] [--config [STACK=]FILE]... [--app-repo DIR] [--fleet DIR]");
    });

    it("<command> --help and help <command> print that command's usage, exit 0, and run nothing", () => {
        const plan = findCommand("plan")!;
        assert.deepStrictEqual(runFleet(["plan", "--help"]), { code: 0, out: commandHelp(plan), err: [] });
        assert.deepStrictEqual(runFleet(["help", "plan"]), { code: 0, out: commandHelp(plan), err: [] });
        assert.deepStrictEqual(runFleet(["plan", "pc2", "-h"]), { code: 0, out: commandHelp(plan), err: [] });
        // A stack that does not exist: --help answers before anything is loaded.
        assert.deepStrictEqual(runFleet(["image-targets", "nowhere", "--help"]).code, 0);
        assert.deepStrictEqual(commandHelp(findCommand("build-lock")!), [
            "usage: scripts/fleet build-lock <export.json|-> [--sboms DIR]",
            "",
            "build-lock.json from `pulumi stack export` (- reads standard input)",
            "",
            "The digests a deploy built and ran, by image and container: what fleet:pinAll rolls back to.",
            "--sboms DIR adds each built image's SBOM digest (sha256 of its .cdx.json in DIR, as `sbom`",
            "wrote it); a built image without its SBOM there is an error.",
        ]);
    });

    it("an unknown command suggests the closest one, exit 2", () => {
        const r = runFleet(["plna", "pc2"]);
        assert.strictEqual(r.code, 2);
        assert.deepStrictEqual(r.err[0].split("\n").slice(0, 3), ["fleet: unknown command 'plna'; did you mean 'plan'?", "", usage()[0]]);
        assert.deepStrictEqual(runFleet(["help", "imagetargets"]).err[0].split("\n")[0], "fleet: unknown command 'imagetargets'; did you mean 'image-targets'?");
        assert.deepStrictEqual(runFleet(["deploy"]).err[0].split("\n")[0], "fleet: unknown command 'deploy'");
    });

    it("a wrong option prints that command's usage, exit 2", () => {
        const r = runFleet(["plan", "pc2", "--jsn"]);
        assert.deepStrictEqual([r.code, r.out, r.err], [2, [], [["fleet: plan: unknown option --jsn", "", ...commandHelp(findCommand("plan")!)].join("\n")]]);
        assert.strictEqual(runFleet(["validate", "--json"]).code, 2);
    });

    it("the closest command: a unique beginning, else within a third of the typed length (at least 2 edits)", () => {
        const table: [string, string | undefined][] = [
            ["plna", "plan"], ["pla", "plan"], ["image", "image-targets"], ["lock", "lock-targets"], ["chek-stack", "check-stack"],
            ["validat", "validate"], ["dockerfile", "dockerfiles"], ["diagrams", "diagram"], ["deploy", undefined], ["up", undefined], ["xyz", undefined],
        ];
        assert.deepStrictEqual(table.map(([typed]) => [typed, closestCommand(typed)]), table);
    });

    it("every command listed has code to run, and every command that runs is listed", () => {
        assert.deepStrictEqual(COMMANDS.map((c) => c.name).filter((n) => n !== "help").sort(), Object.keys(RUN).sort());
    });
});
