/**
 * The stand-in for @pulumi/command's local.Command run (test/engine/providers/engineIo.ts
 * `runCommand`) against pulumi-command v1.2.1 provider/pkg/provider/local/commandOutputs.go
 * `run`: `/bin/sh -c`, stdout and stderr kept with one trailing newline trimmed
 * (`strings.TrimSuffix(..., "\n")`), and a failure's text `<exit status>: running <%q>:\n<output>`.
 */
import * as assert from "assert";
import { runCommand } from "../engine/providers/engineIo";

describe("local.Command's stand-in (no engine needed)", () => {
    const cases: { title: string; command: string; stdout: string; stderr: string }[] = [
        { title: "one trailing newline is trimmed", command: "echo out; echo err >&2", stdout: "out", stderr: "err" },
        { title: "only one: a second trailing newline stays", command: "printf 'out\\n\\n'", stdout: "out\n", stderr: "" },
        { title: "leading and other whitespace stays", command: "printf '  out \\n'", stdout: "  out ", stderr: "" },
        { title: "no trailing newline, nothing trimmed", command: "printf out", stdout: "out", stderr: "" },
    ];
    for (const c of cases) {
        it(c.title, async () => {
            const out = await runCommand(c.command, {});
            assert.deepStrictEqual({ code: out.code, stdout: out.stdout, stderr: out.stderr }, { code: 0, stdout: c.stdout, stderr: c.stderr });
        });
    }

    it("runs under /bin/sh, not bash", async () => {
        const out = await runCommand("[[ 1 == 1 ]] && echo bash", {});
        assert.notStrictEqual(out.code, 0);
        assert.strictEqual(out.stdout, "");
    });

    it("adds the resource's environment to the provider's", async () => {
        assert.strictEqual((await runCommand('printf %s "$FLEET_X"', { FLEET_X: "y" })).stdout, "y");
    });

    it("fails with the provider's text: exit status, the command quoted, then stdout and stderr as they came", async () => {
        const out = await runCommand("echo a; echo b >&2; exit 3", {});
        assert.strictEqual(out.code, 3);
        assert.strictEqual(out.error, 'exit status 3: running "echo a; echo b >&2; exit 3":\na\nb\n');
    });
});
