/**
 * Every image a stack builds gets its CycloneDX SBOM and the check the deploy's scan job runs
 * (`scripts/fleet sbom`, through scripts/scan-images.sh there): made from the image's exported
 * file system, checked against the image's own dpkg-query and python3. Then build-lock records
 * each image's SBOM digest, and an SBOM that lies about its image fails the check.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exactPins } from "../../../fleet/imageplan/appRepo";
import { buildLock } from "../../../fleet/imageplan/lock";
import { splitRef } from "../../../fleet/imageplan/planImages";
import { familyPins, normalizeName, serviceSpec } from "../../../fleet/model/images";
import { readSbom, sbomDigest } from "../../../fleet/security/sbom";
import { realFleet } from "../../helpers";
import { runFleet, runFleetAsync } from "../../fleet/ops/project";
import { get, ServiceOutput, StackContext } from "./context";

export function sbomChecks(ctx: StackContext): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fleet-engine-sbom-${ctx.stack}-`));
    const sboms = path.join(dir, "sboms");
    let built: Record<string, string> = {};

    it("scripts/fleet sbom: every image the stack built has a CycloneDX SBOM listing exactly its Debian packages and Python distributions", async function () {
        this.timeout(900000);
        built = buildLock(ctx.firstExport).built;
        const refs = Object.values(built);
        assert.ok(refs.length >= Object.keys(ctx.first.outputs.services as object).length, `${refs.length} images built`);
        fs.writeFileSync(path.join(dir, "image-refs.txt"), `${refs.join("\n")}\n`);
        const r = await runFleetAsync(["sbom", path.join(dir, "image-refs.txt"), "--out", sboms]);
        assert.deepStrictEqual(r.err, []);
        assert.strictEqual(r.code, 0);
        assert.strictEqual(r.out.filter((l) => / lists exactly what the image holds \(sha256:[0-9a-f]{64}\)$/.test(l)).length, refs.length);
        assert.strictEqual(r.out[r.out.length - 1], `sbom: ${refs.length} of ${refs.length} images' SBOMs list exactly what they hold`);
    });

    it("each service's SBOM is of the image its container runs, and lists its chain's family pins and its own lock at their versions in the venv, and no build tool", () => {
        const d = realFleet();
        const bySubject = new Map(fs.readdirSync(sboms).map((f) => readSbom(fs.readFileSync(path.join(sboms, f), "utf8"))).map((b) => [`${b.subject.name}@${b.subject.version}`, b]));
        // The first run's services: the images built then are the ones this stack's SBOMs were made of
        // (the suite's later changes replace some; ctx.services is the latest run's).
        for (const [name, s] of Object.entries(ctx.first.outputs.services as Record<string, ServiceOutput>)) {
            const { repository } = splitRef(s.image);
            const sbom = bySubject.get(`${repository}@${s.imageDigest}`);
            assert.ok(sbom, `${name}: an SBOM of ${repository}@${s.imageDigest}`);
            const venv = new Map(sbom.inventory.python.filter((p) => p.location.startsWith("/opt/venv/")).map((p) => [p.name, p.version]));
            const own = exactPins(fs.readFileSync(path.join(ctx.app, serviceSpec(d, name).requirements), "utf8"));
            for (const p of [...familyPins(d, d.services[name].family), ...own]) {
                assert.strictEqual(venv.get(normalizeName(p.name)), p.version, `${name}: ${p.name}`);
            }
            // The venv's own setuptools is gone (fleet/render/dockerfile.ts familyRoot): no HIGH finding for Trivy.
            assert.ok(!venv.has("setuptools"), `${name}: setuptools ${venv.get("setuptools")} in the venv`);
            // The builder stage compiles; the runtime image has only what runs (002 §A.1).
            assert.deepStrictEqual(sbom.inventory.deb.filter((p) => /^(build-essential|gcc(-\d+)?|g\+\+(-\d+)?|make)$/.test(p.name)), [], name);
        }
    });

    it("build-lock --sboms records each built image's SBOM digest: the sha256 of the file the scan wrote", () => {
        const exported = path.join(dir, "export.json");
        fs.writeFileSync(exported, JSON.stringify(ctx.firstExport));
        const r = runFleet(["build-lock", exported, "--sboms", sboms]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const lock = JSON.parse(r.out.join("\n"));
        assert.deepStrictEqual(Object.keys(lock.sboms), Object.keys(built));
        for (const f of fs.readdirSync(sboms)) {
            const subject = readSbom(fs.readFileSync(path.join(sboms, f), "utf8")).subject;
            const image = Object.keys(built).find((k) => built[k].endsWith(`@${subject.version}`) && built[k].startsWith(`${subject.name}:`))!;
            assert.strictEqual(lock.sboms[image], sbomDigest(fs.readFileSync(path.join(sboms, f))), f);
        }
    });

    // One stack: the index, its volume and the entrypoint are the same on every host.
    if (ctx.stack === "local") it("publish-sboms puts each image's SBOM digest in the host's index; every container started afterwards reports its own, in its log and to the UOC", async function () {
        this.timeout(600000);
        const lock = JSON.parse(runFleet(["build-lock", path.join(dir, "export.json"), "--sboms", sboms]).out.join("\n")) as { sboms: Record<string, string>; built: Record<string, string> };
        const r = await runFleetAsync(["publish-sboms", ctx.stack, sboms]);
        assert.deepStrictEqual([r.code, r.err], [0, []]);
        const n = Object.keys(lock.sboms).length;
        assert.deepStrictEqual(r.out, [`publish-sboms: fleet-${ctx.machine}-sboms on unix:///var/run/docker.sock: ${n} SBOM digests published (${n} new, 0 again), 0 dropped (not published for 180 days), ${n} in the index`]);
        // Published again: the same entries, none new.
        const again = await runFleetAsync(["publish-sboms", ctx.stack, sboms]);
        assert.deepStrictEqual(again.out, [`publish-sboms: fleet-${ctx.machine}-sboms on unix:///var/run/docker.sock: ${n} SBOM digests published (0 new, ${n} again), 0 dropped (not published for 180 days), ${n} in the index`]);
        // The SBOM digest each container must report: its image's, by the digest it runs. The
        // suite's changes replaced some containers with images built after these SBOMs were made:
        // those report none, and their log says why.
        const want = new Map(Object.entries(lock.built).map(([image, ref]) => [ref.slice(ref.indexOf("@") + 1), lock.sboms[image]]));
        const services = ctx.services;
        const first = ctx.first.outputs.services as Record<string, ServiceOutput>;
        const expected = Object.fromEntries(Object.entries(services).map(([name, s]) => {
            if (s.imageDigest !== first[name]?.imageDigest) return [name, null];
            assert.ok(want.get(s.imageDigest), `${name}: its first image ${s.imageDigest} has an SBOM`);
            return [name, want.get(s.imageDigest)!];
        }));
        // A container restarted by Docker reports again (docs/design.md, "Start reports"); the UOC too.
        await Promise.all(Object.values(services).map((s) => ctx.docker.getContainer(s.container).restart({ t: 10 })));
        for (const [name, s] of Object.entries(services)) {
            let logs = { stdout: "", stderr: "" };
            let last: Record<string, unknown> | undefined;
            for (const deadline = Date.now() + 60000; Date.now() < deadline; await new Promise((res) => setTimeout(res, 500))) {
                logs = spawnSync("docker", ["logs", s.container], { encoding: "utf8" });
                const lines = logs.stdout.split("\n").filter((l) => l.startsWith('{"fleetStartReport": '));
                last = lines.length > 1 ? JSON.parse(lines[lines.length - 1]).fleetStartReport : undefined;
                if (last) break;
            }
            assert.strictEqual(last?.sbomDigest, expected[name], `${name}: the report after its restart`);
            if (expected[name] === null) {
                const why = `fleet-entrypoint: no SBOM digest in the start report: /run/fleet-sboms/index.json has no entry for ${s.imageDigest} (publish the image's SBOM with scripts/fleet publish-sboms before pulumi up)`;
                assert.ok(logs.stderr.includes(why), `${name}: its log says why`);
            }
        }
        const uoc = Number(/:(\d+)$/.exec(services.UnifiedObservabilityCenter.endpoint)![1]);
        let latest: Record<string, unknown> = {};
        // The UOC restarted with the rest: until the host front's checks find it listening again,
        // a connection to its port is closed unanswered ("socket hang up"), as for any client.
        let unreachable = "";
        for (const deadline = Date.now() + 180000; Date.now() < deadline; await new Promise((res) => setTimeout(res, 2000))) {
            try {
                const reports = JSON.parse((await get(uoc, "/fleet/v1/start-reports")).body) as Record<string, unknown>[];
                latest = Object.fromEntries(reports.map((x) => [x.service, x.sbomDigest]));
                unreachable = "";
            } catch (e) {
                unreachable = ` (its last answer: ${(e as Error).message})`;
                continue;
            }
            if (Object.keys(services).every((n) => n in latest)) break;
        }
        assert.deepStrictEqual(latest, expected, `the UOC (restarted: its records are new) received each container's report with its SBOM digest${unreachable}`);
        for (const s of Object.values(services)) await waitHealthy(ctx, s.container);
    });

    if (ctx.stack === "local") it("an SBOM that drops a package, changes a version or lists one the image lacks fails the check, naming each", async function () {
        this.timeout(120000);
        const [ref] = Object.values(built);
        const name = fs.readdirSync(sboms).find((f) => readSbom(fs.readFileSync(path.join(sboms, f), "utf8")).subject.version === ref.slice(ref.indexOf("@") + 1))!;
        const one = path.join(dir, "one");
        fs.mkdirSync(one);
        const doc = JSON.parse(fs.readFileSync(path.join(sboms, name), "utf8"));
        const debs = doc.components.filter((c: { purl: string }) => c.purl.startsWith("pkg:deb/"));
        const [dropped, changed] = debs;
        doc.components = doc.components.filter((c: unknown) => c !== dropped);
        const was = changed.version;
        changed.version = "0.0-not-this";
        doc.components.push({ type: "library", name: "ghost", version: "1.0", "bom-ref": "pkg:pypi/ghost@1.0#/opt/venv", purl: "pkg:pypi/ghost@1.0", properties: [{ name: "fleet:python:location", value: "/opt/venv" }] });
        fs.writeFileSync(path.join(one, name), JSON.stringify(doc));
        fs.writeFileSync(path.join(dir, "one.txt"), `${ref}\n`);
        const arch = (c: { purl: string }) => /arch=([^&]+)/.exec(c.purl)![1];
        const r = await runFleetAsync(["sbom", path.join(dir, "one.txt"), "--out", one, "--check"]);
        assert.strictEqual(r.code, 1);
        const file = path.join(one, name);
        assert.deepStrictEqual(r.err, [
            `sbom: ${ref}: ${file}: Debian package ${dropped.name} ${dropped.version} (${arch(dropped)}) is in the image but not in the SBOM`,
            `sbom: ${ref}: ${file}: Debian package ${changed.name} ${was} (${arch(changed)}) is in the image, but the SBOM says 0.0-not-this`,
            `sbom: ${ref}: ${file}: Python distribution ghost 1.0 (in /opt/venv) is in the SBOM but not in the image`,
            `sbom: ${ref}: ${file}: Fix: make it again from the image: scripts/fleet sbom <file listing ${ref}> --out ${one}`,
            "sbom: 0 of 1 images' SBOMs list exactly what they hold; 1 does not",
        ]);
    });
}

/** Until the container is running and healthy again, at most two minutes. */
async function waitHealthy(ctx: StackContext, container: string): Promise<void> {
    for (const deadline = Date.now() + 120000; ;) {
        const st = (await ctx.docker.getContainer(container).inspect()).State;
        if (st.Running && st.Health?.Status === "healthy") return;
        assert.ok(Date.now() < deadline, `${container}: ${st.Status}, ${st.Health?.Status}`);
        await new Promise((res) => setTimeout(res, 500));
    }
}
