/**
 * A service moved between hosts, as issue 27 tried it: ModelOpsCoordinator from MainPC onto PC2,
 * dropped from PC2's `uses`. PC2's containers reach it by its name before and after (a peer
 * front, then PC2's host front), so PC2's `up` adds it, reloads the host front with its listen
 * sections and removes its peer front, and replaces none of PC2's containers; moving it back does
 * the reverse.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { containerName } from "../../../fleet/model/names";
import { planHost } from "../../../fleet/model/plan";
import { parsedStack, realFleet } from "../../helpers";
import { containerIds, exec, PY_BODY, StackContext } from "./context";

const MOVED = "ModelOpsCoordinator";
const CONTAINER = "docker:index/container:Container";

/** fleet/data with ModelOpsCoordinator on pc2 only, out of pc2's `uses`, its card figure halved to fit the RTX 3060. */
function movedData(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-moved-data-"));
    fs.cpSync(path.join(__dirname, "..", "..", "..", "fleet", "data"), dir, { recursive: true });
    const edit = (file: string, from: string, to: string) => {
        const p = path.join(dir, file);
        const text = fs.readFileSync(p, "utf8");
        assert.ok(text.includes(from), `${file} holds ${JSON.stringify(from)}`);
        fs.writeFileSync(p, text.replace(from, to));
    };
    edit("services.yaml", `  ${MOVED}:\n    hosts: [mainpc]\n`, `  ${MOVED}:\n    hosts: [pc2]\n`);
    edit("services.yaml", "    vramMb: 8192\n", "    vramMb: 4096\n");
    edit("hosts.yaml", "mainpc: [ServiceRegistry, SystemDigitalTwin, ModelOpsCoordinator]", "mainpc: [ServiceRegistry, SystemDigitalTwin]");
    return dir;
}

/** What a pc2 container gets asking `model-ops-coordinator:7212/`: the service's own answer, or the MainPC stand-in's. */
async function answer(ctx: StackContext, from: string): Promise<Record<string, unknown>> {
    const url = `http://${containerName(MOVED)}:7212/`;
    const r = await exec(ctx.docker, ctx.services[from].container, PY_BODY(url));
    assert.strictEqual(r.code, 0, `${from} -> ${url}: ${r.output}`);
    return JSON.parse(r.output) as Record<string, unknown>;
}

const containerChanges = (changes: string[]) => changes.filter((c) => c.startsWith(`${CONTAINER} `));

export function peerMoveChecks(ctx: StackContext): void {
    it("a service moved onto the host (ModelOpsCoordinator, MainPC to PC2): `up` adds its container, reloads the host front and removes its peer front, replacing none of the host's containers; they reach it by the same name; moved back, the reverse", async function () {
        this.timeout(900000);
        const asker = planHost(realFleet(), parsedStack(ctx.config())).containers[0].service;
        const before = await containerIds(ctx.docker, ctx.services);
        assert.deepStrictEqual(await answer(ctx, asker), { standIn: MOVED, path: "/" }, "through its peer front, to MainPC's");
        const data = movedData();
        process.env.FLEET_DATA_DIR = data;
        try {
            await ctx.harness.run(ctx.config());
        } finally {
            delete process.env.FLEET_DATA_DIR;
        }
        const name = containerName(MOVED);
        assert.deepStrictEqual(containerChanges(ctx.harness.changes()), [`${CONTAINER} ${name} create`, `${CONTAINER} ${name}-peer delete`]);
        assert.ok(ctx.harness.changes().includes(`command:local:Command ${ctx.machine}-front-start update`), "the host front reloaded with the service's sections");
        assert.deepStrictEqual(ctx.harness.changes().filter((c) => c.endsWith(" replace") && !/^command:local:Command /.test(c)), [], "nothing but commands is replaced");
        const after = await containerIds(ctx.docker, ctx.services);
        for (const [service, id] of Object.entries(before)) assert.strictEqual(after[service], id, `${service} kept its container`);
        assert.deepStrictEqual(Object.keys(after).filter((s) => !(s in before)), [MOVED]);
        const own = await answer(ctx, asker);
        assert.deepStrictEqual([own.service, own.machine], [MOVED, "pc2"], "its own container on pc2, by the same name");

        // Moved back: the committed data again.
        await ctx.harness.run(ctx.config());
        assert.deepStrictEqual(containerChanges(ctx.harness.changes()), [`${CONTAINER} ${name} delete`, `${CONTAINER} ${name}-peer create`]);
        assert.ok(ctx.harness.changes().includes(`command:local:Command ${ctx.machine}-front-start update`), "the host front reloaded without them");
        const back = await containerIds(ctx.docker, ctx.services);
        assert.deepStrictEqual(back, before, "every container as before the move");
        assert.deepStrictEqual(await answer(ctx, asker), { standIn: MOVED, path: "/" }, "through its peer front again");
        fs.rmSync(data, { recursive: true, force: true });
    });
}
