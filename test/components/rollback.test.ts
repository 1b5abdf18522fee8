import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { byType, PEER_OUTPUTS, Registered, runbookStack, runProgram, nameOf, runningContainers } from "../mocks";

const TAG = "20250810-9c99cc9-1a2b3c4";
const DIGEST = `sha256:${"ab".repeat(32)}`;

function containersByName(rs: Registered[]): Map<string, Registered> {
    return new Map(runningContainers(rs).map((c) => [nameOf(c), c]));
}

describe("rollback by pinning images", () => {
    // pc2 reads MainPC's endpoints from the mainpc stack: without them no container registers.
    PEER_OUTPUTS["ai-system/fleet/mainpc"] = { endpoints: { ServiceRegistry: "192.0.2.16:7200", SystemDigitalTwin: "192.0.2.16:7220", ModelOpsCoordinator: "192.0.2.16:7212", UnifiedObservabilityCenter: "192.0.2.16:9100" } };
    let unpinned: Registered[];
    before(async () => {
        unpinned = (await runProgram(runbookStack("pc2"))).resources;
    });

    it("a pin changes only that container's image, and its image is not built", async () => {
        const pinned = (await runProgram(runbookStack("pc2", "pin-tag"))).resources;
        const remote = byType(pinned, "docker:index/remoteImage:RemoteImage").find((r) => r.name === "cache-manager")!;
        assert.strictEqual(nameOf(remote), `ghcr.io/ai-system/cache-manager:${TAG}`);
        assert.ok(!byType(pinned, "docker-build:index:Image").some((i) => i.name === "cache-manager"));
        assert.strictEqual(byType(pinned, "docker-build:index:Image").length, byType(unpinned, "docker-build:index:Image").length - 1);
        const before = containersByName(unpinned);
        const after = containersByName(pinned);
        assert.strictEqual(after.size, 24, "every container of pc2 and the proxy");
        assert.deepStrictEqual([...after.keys()].sort(), [...before.keys()].sort());
        for (const [name, c] of after) {
            const old = before.get(name)!;
            if (name === "cache-manager") {
                assert.notStrictEqual(c.inputs.image, old.inputs.image);
                assert.ok(c.inputs.envs.includes(`FLEET_GIT_SHA=pinned ghcr.io/ai-system/cache-manager:${TAG}`));
            } else {
                assert.deepStrictEqual(c.inputs, old.inputs, `${name} is untouched`);
            }
        }
    });

    it("a digest pin pulls by digest", async () => {
        const pinned = (await runProgram(runbookStack("pc2", "pin-digest"))).resources;
        const remote = byType(pinned, "docker:index/remoteImage:RemoteImage").find((r) => r.name === "cache-manager")!;
        assert.strictEqual(nameOf(remote), `ghcr.io/ai-system/cache-manager@${DIGEST}`);
    });

    it("pinAll runs every service at the digest the build lock says it ran, builds no service or family image beyond what the Docker API proxy needs", async () => {
        const r = await runProgram(runbookStack("pc2", "pin-all"));
        assert.deepStrictEqual(byType(r.resources, "docker-build:index:Image").map((i) => i.name).sort(), ["base-python", "pc2-docker-api-proxy"]);
        const lock = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "build-lock-pc2.json"), "utf8")) as { built: Record<string, string>; revisions: Record<string, string> };
        // The proxy's image is built (above), not pinned: it is not a service.
        const remotes = new Map(byType(r.resources, "docker:index/remoteImage:RemoteImage").filter((x) => x.name !== "pc2-docker-api-proxy").map((x) => [x.name, nameOf(x)]));
        assert.strictEqual(remotes.get("cache-manager"), `ghcr.io/ai-system/cache-manager@${DIGEST}`, "a per-service pin wins over pinAll");
        assert.strictEqual(remotes.size, 23);
        assert.strictEqual(runningContainers(r.resources).length, 24);
        for (const [name, ref] of remotes) {
            if (name !== "cache-manager") assert.strictEqual(ref, lock.built[name], name);
        }
        assert.match(remotes.get("advanced-router")!, /^ghcr\.io\/ai-system\/advanced-router:20250810-9c99cc9-[0-9a-f]{7}@sha256:[0-9a-f]{64}$/);
        // Labelled with the commit that deploy built each image from, as the deploy labelled it.
        const router = runningContainers(r.resources).find((c) => nameOf(c) === "advanced-router")!;
        assert.ok(router.inputs.envs.includes(`FLEET_GIT_SHA=${lock.revisions["advanced-router"]}`));
        assert.ok(router.inputs.labels.some((l: { label: string; value: string }) => l.label === "fleet.git-sha" && l.value === lock.revisions["advanced-router"]));
        const services = r.outputs.services as Record<string, { pinned: boolean; image: string }>;
        assert.ok(Object.values(services).every((s) => s.pinned));
    });

    it("a pin of an unknown service or a malformed reference is refused, with the file and the fix", async () => {
        await assert.rejects(runProgram(runbookStack("pc2", "pins-broken")), (e: Error) => {
            assert.deepStrictEqual(e.message.split("\n").slice(1), [
                "  - Pulumi.pc2.yaml: fleet:pins[0]: 'CacheManagr' is not a service of the fleet; the closest is CacheManager. Fix: write CacheManager=v1: pulumi config set --path 'fleet:pins[0]' CacheManager=v1 --stack pc2",
                "  - Pulumi.pc2.yaml: fleet:pins[1]: 'sha256:xyz' is neither an image tag nor sha256:<64 hex>. Fix: pin a tag from `pulumi stack output services` or the registry, or the image's digest: pulumi config set --path 'fleet:pins[1]' CacheManager=<tag> --stack pc2",
                "  - Pulumi.pc2.yaml: fleet:pins[2]: 'CacheManager' is pinned twice. Fix: keep one pin per service: pulumi config rm --path 'fleet:pins[2]' --stack pc2",
            ]);
            return true;
        });
    });
});
