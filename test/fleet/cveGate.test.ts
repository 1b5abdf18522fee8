/**
 * The deploy's CVE gate (fleet/security/cveGate.ts, `scripts/fleet cve-gate`, run per image by
 * scripts/scan-images.sh) on Trivy JSON reports. Trivy cannot run here (its vulnerability
 * database is downloaded from outside the registries this machine reaches), so the fixtures of
 * test/fixtures/trivy are written to Trivy's report schema (aquasecurity/trivy pkg/types/report.go
 * `Report`, `Result`, `DetectedVulnerability` with trivy-db's `Severity`), with real Debian 12 and
 * PyPI advisories: a CRITICAL in libexpat1, a HIGH in requests, a MEDIUM in libtinfo6.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readAllowlist } from "../../fleet/security/cveGate";
import { PROJECT_DIR } from "../mocks";
import { writeDockerStandIn } from "./dockerStandIn";
import { runFleet } from "./ops/project";

const FIXTURES = path.join(PROJECT_DIR, "test", "fixtures", "trivy");
const A = `sha256:${"a1".repeat(32)}`;
const B = `sha256:${"b2".repeat(32)}`;
const REF_A = `ghcr.io/ai-system/nlu-agent:20261201-a75b1e0-0f34103@${A}`;
const REF_B = `ghcr.io/ai-system/nlu-agent:20261202-b11c0de-0f34103@${B}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cve-"));

function allowlist(text: string): string {
    const f = path.join(dir, `allow-${Math.random().toString(16).slice(2)}.yaml`);
    fs.writeFileSync(f, text);
    return f;
}

const gate = (report: string, ref: string, allow: string) => runFleet(["cve-gate", path.join(FIXTURES, report), "--image", ref, "--allowlist", allow]);
const CRITICAL = "CVE-2024-45491 (CRITICAL) in libexpat1 2.5.0-1, fixed in 2.5.0-1+deb12u1 [ghcr.io/ai-system/nlu-agent:20261201-a75b1e0-0f34103 (debian 12.8)]";
const HIGH = "CVE-2024-35195 (HIGH) in requests 2.31.0, fixed in 2.32.0 [Python]";

describe("the CVE gate on Trivy JSON reports", () => {
    it("a report without findings passes", () => {
        assert.deepStrictEqual(gate("nlu-agent-clean.json", REF_A, allowlist("{}\n")), { code: 0, out: [`cve-gate: ghcr.io/ai-system/nlu-agent@${A}: passes`], err: [] });
    });

    it("HIGH and CRITICAL fail, each named with its package, version and fix; MEDIUM does not count", () => {
        const allow = allowlist("{}\n");
        const r = gate("nlu-agent-findings.json", REF_A, allow);
        assert.strictEqual(r.code, 1);
        const fix = `Fix: update the package (rebuild), or allow it in ${allow} under "${A}" with why`;
        assert.deepStrictEqual(r.err, [
            `cve-gate: ghcr.io/ai-system/nlu-agent@${A}: ${CRITICAL}: not allowed for this digest. ${fix}`,
            `cve-gate: ghcr.io/ai-system/nlu-agent@${A}: ${HIGH}: not allowed for this digest. ${fix}`,
            `cve-gate: ghcr.io/ai-system/nlu-agent@${A}: fails: 2 HIGH/CRITICAL findings not allowed`,
        ]);
        assert.ok(!r.err.concat(r.out).some((l) => l.includes("CVE-2023-50495")), "the MEDIUM finding is not judged");
    });

    it("findings allowed for this image's digest pass, and are listed as allowed", () => {
        const allow = allowlist(`"${A}": [CVE-2024-45491, CVE-2024-35195]\n`);
        const r = gate("nlu-agent-findings.json", REF_A, allow);
        assert.deepStrictEqual([r.code, r.err], [0, []]);
        assert.deepStrictEqual(r.out, [
            `cve-gate: ghcr.io/ai-system/nlu-agent@${A}: ${CRITICAL}: allowed for this digest by ${allow}`,
            `cve-gate: ghcr.io/ai-system/nlu-agent@${A}: ${HIGH}: allowed for this digest by ${allow}`,
            `cve-gate: ghcr.io/ai-system/nlu-agent@${A}: passes (2 allowed)`,
        ]);
    });

    it("an allowance covers only the findings it names", () => {
        const r = gate("nlu-agent-findings.json", REF_A, allowlist(`"${A}": [CVE-2024-45491]\n`));
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(r.err.map((l) => l.split(": ")[2].split(" ")[0]), ["CVE-2024-35195", "fails"]);
    });

    it("an allowance lapses when the image is rebuilt: the same findings in the new digest fail", () => {
        const r = gate("nlu-agent-rebuilt-findings.json", REF_B, allowlist(`"${A}": [CVE-2024-45491, CVE-2024-35195]\n`));
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.err[r.err.length - 1], `cve-gate: ghcr.io/ai-system/nlu-agent@${B}: fails: 2 HIGH/CRITICAL findings not allowed`);
    });

    const refused: [string, () => { code: number; err: string[] }, string][] = [
        ["a report of another digest than the image judged", () => gate("nlu-agent-rebuilt-findings.json", REF_A, allowlist("{}\n")), `cve-gate: ${path.join(FIXTURES, "nlu-agent-rebuilt-findings.json")}: is the report of ${REF_B.replace("20261202-b11c0de", "20261201-a75b1e0")} (ghcr.io/ai-system/nlu-agent@${B}), not of ${REF_A}. Fix: scan ${REF_A} itself`],
        ["an image named without a digest", () => gate("nlu-agent-clean.json", "ghcr.io/ai-system/nlu-agent:20261201-a75b1e0-0f34103", allowlist("{}\n")), "cve-gate: ghcr.io/ai-system/nlu-agent:20261201-a75b1e0-0f34103: names no image digest. Fix: scan images by tag@digest (scripts/image-refs.sh writes them so)"],
        ["a file that is not a Trivy report", () => runFleet(["cve-gate", path.join(PROJECT_DIR, "test", "fixtures", "build-lock-pc2.json"), "--image", REF_A, "--allowlist", allowlist("{}\n")]), `cve-gate: ${path.join(PROJECT_DIR, "test", "fixtures", "build-lock-pc2.json")}: is not a Trivy JSON report (SchemaVersion 2 with Results). Fix: give the report of \`trivy image --format json\``],
        ["an allowance keyed by a tag", () => gate("nlu-agent-clean.json", REF_A, allowlist("nlu-agent:latest: [CVE-2024-45491]\n")), "'nlu-agent:latest' is not an image digest. Fix: key each allowance by the sha256:<64 hex> digest of the image it was judged for"],
        ["an allowance that is not a list", () => gate("nlu-agent-clean.json", REF_A, allowlist(`"${A}": CVE-2024-45491\n`)), `${A}: is not a list of vulnerability IDs. Fix: write ${A}: [CVE-2024-12345, ...]`],
    ];
    for (const [title, run, message] of refused) {
        it(`refuses ${title}, naming the file and the fix`, () => {
            const r = run();
            assert.strictEqual(r.code, 1);
            assert.strictEqual(r.err.length, 1);
            assert.ok(r.err[0].endsWith(message), `${r.err[0]}\n  should end with\n${message}`);
        });
    }

    it("the committed allow-list is valid and allows nothing", () => {
        assert.deepStrictEqual(readAllowlist(fs.readFileSync(path.join(PROJECT_DIR, "security", "trivy-allowlist.yaml"), "utf8"), "security/trivy-allowlist.yaml"), {});
    });
});

describe("scripts/scan-images.sh with stand-ins for trivy and docker", () => {
    /** trivy copies the fixture named for the image's digest to --output; docker is ./dockerStandIn.ts's. */
    function scan(refs: string[], allow: string, extraIn?: string): { code: number | null; out: string; err: string; calls: string; dir: string } {
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-scan-bin-"));
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-scan-out-"));
        writeDockerStandIn(bin, { extraIn });
        const byDigest: Record<string, string> = { [A]: "nlu-agent-findings.json", [B]: "nlu-agent-clean.json" };
        fs.writeFileSync(path.join(bin, "trivy"), [
            "#!/usr/bin/env bash",
            `echo "trivy $*" >> "${bin}/calls"`,
            'while [ $# -gt 1 ]; do [ "$1" = --output ] && o="$2"; shift; done',
            'case "$1" in',
            ...Object.entries(byDigest).map(([d, f]) => `  *@${d}) cp "${path.join(FIXTURES, f)}" "$o" ;;`),
            "esac",
        ].join("\n"), { mode: 0o755 });
        const list = path.join(out, "image-refs.txt");
        fs.writeFileSync(list, `${refs.join("\n")}\n`);
        const dir = path.join(out, "sboms");
        const r = spawnSync("bash", [path.join(PROJECT_DIR, "scripts", "scan-images.sh"), list, allow, dir], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
        return { code: r.status, out: r.stdout, err: r.stderr, calls: fs.readFileSync(path.join(bin, "calls"), "utf8"), dir };
    }

    it("scans every image, judges each report with the gate, and fails when one image has a finding not allowed", function () {
        this.timeout(120000);
        // The rebuilt image's fixture here is clean: only A's findings fail.
        const r = scan([REF_A, REF_B], allowlist("{}\n"));
        assert.strictEqual(r.code, 1);
        assert.match(r.err, new RegExp(`cve-gate: ghcr\\.io/ai-system/nlu-agent@${A}: fails: 2 HIGH/CRITICAL findings not allowed`));
        assert.doesNotMatch(r.err, new RegExp(`nlu-agent@${B}: fails`));
        assert.match(r.calls, /trivy image --quiet --format json --severity HIGH,CRITICAL --output \S+\/nlu-agent\.trivy\.json /);
    });

    it("passes when every finding is allowed for its digest; writes the image's CycloneDX SBOM and checks it against the image's dpkg-query and python3", function () {
        this.timeout(120000);
        const r = scan([REF_A], allowlist(`"${A}": [CVE-2024-45491, CVE-2024-35195]\n`));
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(r.calls.trim().split("\n").map((l) => l.split(" ").slice(0, 3).join(" ").replace(/c4ec4-[0-9a-f]{8}/, "c4ec4-x")), [
            `trivy image --quiet`, "docker create --pull", "docker export c0ffee", "docker rm --force",
            "docker create --pull", "docker start c4ec4-x", "docker wait c4ec4-x", "docker cp c4ec4-x:/tmp/fleet-deb", "docker cp c4ec4-x:/tmp/fleet-py", "docker rm --force",
        ]);
        const sbom = JSON.parse(fs.readFileSync(path.join(r.dir, "nlu-agent.cdx.json"), "utf8"));
        assert.deepStrictEqual(sbom.metadata.component, { type: "container", name: "ghcr.io/ai-system/nlu-agent", version: A, "bom-ref": `image:ghcr.io/ai-system/nlu-agent@${A}` });
        assert.deepStrictEqual(sbom.components.map((c: { purl: string }) => c.purl), ["pkg:deb/debian/libexpat1@2.5.0-1?arch=amd64&distro=debian-12", "pkg:pypi/certifi@2024.2.2"]);
        assert.match(r.out, new RegExp(`sbom: ${REF_A}: lists exactly what the image holds \\(sha256:[0-9a-f]{64}\\)\nsbom: 1 of 1 images' SBOMs list exactly what they hold\n`));
    });

    it("fails when an image holds a distribution its SBOM does not list, naming the image, the file and the distribution, after the other images", function () {
        this.timeout(120000);
        const clean = allowlist(`"${A}": [CVE-2024-45491, CVE-2024-35195]\n`);
        const r = scan([REF_A, REF_B.replace("nlu-agent:", "executor:")], clean, REF_A);
        assert.strictEqual(r.code, 1);
        const errors = r.err.split("\n").filter((l) => l.startsWith("sbom: "));
        assert.deepStrictEqual(errors, [
            `sbom: ${REF_A}: ${r.dir}/nlu-agent.cdx.json: Python distribution requests 2.31.0 (in /opt/venv/lib/python3.11/site-packages) is in the image but not in the SBOM`,
            `sbom: ${REF_A}: ${r.dir}/nlu-agent.cdx.json: Fix: the generator misread the image it just read: compare the SBOM with docker run --rm --user 0 --entrypoint dpkg-query ${REF_A} -W, and fix fleet/security/sbom.ts`,
            "sbom: 1 of 2 images' SBOMs list exactly what they hold; 1 does not",
        ]);
    });
});
