/**
 * The SBOM of an image (fleet/security/sbom.ts): what is read from its files, the CycloneDX
 * document written, and the check against what the image's own tools report. The engine suite
 * runs `scripts/fleet sbom` on every image a stack builds (test/engine/suite/sbom.ts).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findCommand, commandHelp } from "../../fleet/ops/help";
import { sbomImages, schemaProblems } from "../../fleet/ops/sbom";
import {
    compareSbom, ImageIdentity, Inventory, inventoryOf, metadataLocation, parseCoreMetadata, parseDpkgQuery, parseDpkgStatus,
    parseOsRelease, parsePythonInventory, readSbom, renderSbom, sbomDigest,
} from "../../fleet/security/sbom";
import { STAND_IN_SITE, writeDockerStandIn } from "./dockerStandIn";
import { runFleet, runFleetAsync } from "./ops/project";

const STATUS = `Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Version: 2.36-9+deb12u10
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
Conffiles:
 /etc/ld.so.conf.d/x86_64-linux-gnu.conf d4e7a7b88a71b5ffd9e2644e71a0cfab

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: gcc-12
Status: deinstall ok config-files
Architecture: amd64
Version: 12.2.0-14

Package: tzdata
Status: install reinstreq half-installed
Architecture: all
Version: 2024a-0+deb12u1

Package: adduser
Status: install ok installed
Architecture: all
Version: 3.134
`;

const IMAGE: ImageIdentity = { repository: "ghcr.io/ai-system/nlu-agent", digest: `sha256:${"ab".repeat(32)}`, distro: "debian-12" };
const VENV = "/opt/venv/lib/python3.11/site-packages";
const INVENTORY: Inventory = {
    deb: [
        { name: "adduser", architecture: "all", version: "3.134" },
        { name: "libc6", architecture: "amd64", version: "2.36-9+deb12u10" },
    ],
    python: [{ name: "pydantic-core", version: "2.20.1", location: VENV }],
};
const GENERATOR = { name: "fleet sbom", version: "0.1.0" };

describe("an image's SBOM: what is read from its files", () => {
    it("counts a Debian package only when dpkg's status says installed (not config-files, not half-installed)", () => {
        assert.deepStrictEqual(parseDpkgStatus(STATUS), [
            { name: "libc6", architecture: "amd64", version: "2.36-9+deb12u10" },
            { name: "zlib1g", architecture: "amd64", version: "1:1.2.13.dfsg-1" },
            { name: "adduser", architecture: "all", version: "3.134" },
        ]);
    });

    const osReleases: [string, string | undefined][] = [
        ['PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n', "debian-12"],
        ["ID=ubuntu\nVERSION_ID='22.04'\n", "ubuntu-22.04"],
        ['ID=debian\nPRETTY_NAME="Debian GNU/Linux trixie/sid"\n', undefined],
    ];
    for (const [text, want] of osReleases) {
        it(`os-release ${JSON.stringify(text.split("\n")[0])}... gives distro ${want}`, () => assert.strictEqual(parseOsRelease(text), want));
    }

    it("reads Name and Version from the metadata's headers only, not from its description", () => {
        const text = "Metadata-Version: 2.1\r\nName: Pydantic_Core\r\nVersion: 2.20.1\r\n\r\nName: not-this\nVersion: 9\n";
        assert.deepStrictEqual(parseCoreMetadata(text), { name: "Pydantic_Core", version: "2.20.1" });
        assert.strictEqual(parseCoreMetadata("Metadata-Version: 2.1\nName: x\n"), undefined);
    });

    const paths: [string, string | undefined][] = [
        [`${VENV}/pydantic_core-2.20.1.dist-info/METADATA`, VENV],
        ["/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO", "/usr/lib/python3/dist-packages"],
        ["/usr/lib/python3.11/lib-dynload/legacy-1.0.egg-info", "/usr/lib/python3.11/lib-dynload"],
        [`${VENV}/pydantic_core-2.20.1.dist-info/RECORD`, undefined],
        [`${VENV}/pydantic_core/METADATA`, undefined],
    ];
    for (const [file, want] of paths) {
        it(`${file.slice(file.lastIndexOf("/", file.lastIndexOf("/") - 1) + 1)} is a distribution ${want ? `in ${want}` : "of nothing"}`, () => assert.strictEqual(metadataLocation(file), want));
    }

    it("one inventory of the files: Debian packages from dpkg's status, Python distributions by normalized name and location", () => {
        const meta = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;
        assert.deepStrictEqual(inventoryOf(STATUS, {
            [`${VENV}/pydantic_core-2.20.1.dist-info/METADATA`]: meta("pydantic_core", "2.20.1"),
            [`${VENV}/Jinja2-3.1.4.dist-info/METADATA`]: meta("Jinja2", "3.1.4"),
            "/usr/lib/python3/dist-packages/six-1.16.0.egg-info": meta("six", "1.16.0"),
        }), {
            deb: parseDpkgStatus(STATUS),
            python: [
                { name: "jinja2", version: "3.1.4", location: VENV },
                { name: "pydantic-core", version: "2.20.1", location: VENV },
                { name: "six", version: "1.16.0", location: "/usr/lib/python3/dist-packages" },
            ],
        });
        assert.deepStrictEqual(inventoryOf(undefined, {}), { deb: [], python: [] });
    });

    it("what the image's own tools say: dpkg-query lines (installed only) and the Python script's JSON", () => {
        assert.deepStrictEqual(parseDpkgQuery("libc6\tamd64\t2.36-9+deb12u10\tinstalled\ngcc-12\tamd64\t12.2.0-14\tconfig-files\n"), [{ name: "libc6", architecture: "amd64", version: "2.36-9+deb12u10" }]);
        assert.deepStrictEqual(parsePythonInventory(JSON.stringify([[VENV, "Pydantic_Core", "2.20.1"]])), INVENTORY.python);
    });
});

describe("an image's SBOM: the CycloneDX document", () => {
    const text = renderSbom(IMAGE, INVENTORY, GENERATOR);

    it("is CycloneDX 1.6 JSON naming the image by repository and digest, each package by purl and exact version, and no dependency graph it does not know", () => {
        assert.deepStrictEqual(JSON.parse(text), {
            $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
            bomFormat: "CycloneDX",
            specVersion: "1.6",
            version: 1,
            serialNumber: JSON.parse(text).serialNumber,
            metadata: {
                tools: { components: [{ type: "application", name: "fleet sbom", version: "0.1.0" }] },
                component: { type: "container", name: IMAGE.repository, version: IMAGE.digest, "bom-ref": `image:${IMAGE.repository}@${IMAGE.digest}` },
            },
            components: [
                { type: "library", name: "adduser", version: "3.134", "bom-ref": "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12", purl: "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12" },
                { type: "library", name: "libc6", version: "2.36-9+deb12u10", "bom-ref": "pkg:deb/debian/libc6@2.36-9+deb12u10?arch=amd64&distro=debian-12", purl: "pkg:deb/debian/libc6@2.36-9+deb12u10?arch=amd64&distro=debian-12" },
                { type: "library", name: "pydantic-core", version: "2.20.1", "bom-ref": `pkg:pypi/pydantic-core@2.20.1#${VENV}`, purl: "pkg:pypi/pydantic-core@2.20.1", properties: [{ name: "fleet:python:location", value: VENV }] },
            ],
        });
        assert.match(JSON.parse(text).serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it("passes CycloneDX's own strict schema check; a component without a name does not", async () => {
        assert.deepStrictEqual(await schemaProblems(text), []);
        const broken = JSON.parse(text);
        delete broken.components[0].name;
        assert.deepStrictEqual(await schemaProblems(JSON.stringify(broken)), ["CycloneDX 1.6 schema: /components/0 must have required property 'name'"]);
    });

    it("is the same bytes for the same image, whatever order the files were read in; another digest gets another serial number", () => {
        const shuffled = { deb: [...INVENTORY.deb].reverse(), python: INVENTORY.python };
        assert.strictEqual(renderSbom(IMAGE, shuffled, GENERATOR), text);
        assert.strictEqual(sbomDigest(renderSbom(IMAGE, shuffled, GENERATOR)), sbomDigest(text));
        assert.notStrictEqual(JSON.parse(renderSbom({ ...IMAGE, digest: `sha256:${"cd".repeat(32)}` }, INVENTORY, GENERATOR)).serialNumber, JSON.parse(text).serialNumber);
    });

    it("reads back as the inventory it was made from", () => {
        assert.deepStrictEqual(readSbom(text), { subject: { name: IMAGE.repository, version: IMAGE.digest }, inventory: INVENTORY, others: [] });
    });
});

describe("an image's SBOM: the check against the image", () => {
    const sbom = readSbom(renderSbom(IMAGE, INVENTORY, GENERATOR));
    const rows: { what: string; found: Inventory; image?: ImageIdentity; want: string[] }[] = [
        { what: "the image holds exactly what the SBOM lists", found: INVENTORY, want: [] },
        {
            what: "a package added, one gone and a version changed",
            found: {
                deb: [{ name: "adduser", architecture: "all", version: "3.135" }, { name: "zlib1g", architecture: "amd64", version: "1:1.2.13.dfsg-1" }],
                python: [...INVENTORY.python, { name: "pip", version: "23.0.1", location: VENV }],
            },
            want: [
                "Debian package adduser 3.135 (all) is in the image, but the SBOM says 3.134",
                "Debian package zlib1g 1:1.2.13.dfsg-1 (amd64) is in the image but not in the SBOM",
                "Debian package libc6 2.36-9+deb12u10 (amd64) is in the SBOM but not in the image",
                `Python distribution pip 23.0.1 (in ${VENV}) is in the image but not in the SBOM`,
            ],
        },
        {
            what: "the same distribution in another environment is another entry",
            found: { deb: INVENTORY.deb, python: [{ name: "pydantic-core", version: "2.20.1", location: "/usr/lib/python3/dist-packages" }] },
            want: [
                "Python distribution pydantic-core 2.20.1 (in /usr/lib/python3/dist-packages) is in the image but not in the SBOM",
                `Python distribution pydantic-core 2.20.1 (in ${VENV}) is in the SBOM but not in the image`,
            ],
        },
        {
            what: "an SBOM of another image",
            found: INVENTORY,
            image: { ...IMAGE, digest: `sha256:${"cd".repeat(32)}` },
            want: [`describes ${IMAGE.repository}@${IMAGE.digest}, not ${IMAGE.repository}@sha256:${"cd".repeat(32)}`],
        },
    ];
    for (const r of rows) {
        it(`${r.what}: ${r.want.length ? `${r.want.length} problems` : "nothing to say"}`, () => {
            assert.deepStrictEqual(compareSbom(sbom, r.image ?? IMAGE, r.found), r.want);
        });
    }

    it("names a component that is neither a Debian package nor a Python distribution", () => {
        const doc = JSON.parse(renderSbom(IMAGE, INVENTORY, GENERATOR));
        doc.components.push({ type: "library", name: "left-pad", version: "1.3.0", "bom-ref": "pkg:npm/left-pad@1.3.0", purl: "pkg:npm/left-pad@1.3.0" });
        assert.deepStrictEqual(compareSbom(readSbom(JSON.stringify(doc)), IMAGE, INVENTORY), ["component pkg:npm/left-pad@1.3.0 is neither a Debian package nor a Python distribution of the image"]);
    });
});

describe("build-lock --sboms: each built image's SBOM digest", () => {
    const digest = `sha256:${"c".repeat(64)}`;
    const exported = {
        deployment: {
            resources: [
                { type: "pulumi:pulumi:Stack", urn: "urn:pulumi:pc2::fleet::pulumi:pulumi:Stack::fleet-pc2" },
                { type: "docker-build:index:Image", urn: "urn:pulumi:pc2::fleet::fleet:images:HostImages$fleet:images:ServiceImage$docker-build:index:Image::cache-manager", outputs: { ref: `ghcr.io/ai-system/cache-manager:t@${digest}` } },
                { type: "docker-build:index:Image", urn: "urn:pulumi:pc2::fleet::fleet:images:HostImages$fleet:images:FamilyImage$docker-build:index:Image::base-python", outputs: { ref: `ghcr.io/ai-system/base-python:t@${digest}` } },
            ],
        },
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-sboms-"));
    const file = path.join(dir, "export.json");
    fs.writeFileSync(file, JSON.stringify(exported));
    const sboms = path.join(dir, "sboms");
    fs.mkdirSync(sboms);
    const cacheManager = renderSbom({ repository: "ghcr.io/ai-system/cache-manager", digest }, INVENTORY, GENERATOR);
    fs.writeFileSync(path.join(sboms, "cache-manager.cdx.json"), cacheManager);

    it("a built image without its SBOM is an error naming the image and the command that makes it", () => {
        const r = runFleet(["build-lock", file, "--sboms", sboms]);
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(r.err, [`1 problem in the SBOMs:\n  - ${sboms}: base-python: has no SBOM of ghcr.io/ai-system/base-python:t@${digest}. Fix: make it: scripts/fleet sbom <refs file> --out ${sboms}`]);
        assert.deepStrictEqual(r.out, []);
    });

    it("records the sha256 of each built image's SBOM file, matched by the SBOM's subject", () => {
        fs.writeFileSync(path.join(sboms, "base-python.cdx.json"), renderSbom({ repository: "ghcr.io/ai-system/base-python", digest }, { deb: [], python: [] }, GENERATOR));
        const r = runFleet(["build-lock", file, "--sboms", sboms]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(JSON.parse(r.out.join("\n")).sboms, {
            "base-python": sbomDigest(fs.readFileSync(path.join(sboms, "base-python.cdx.json"))),
            "cache-manager": sbomDigest(cacheManager),
        });
        assert.ok(!("sboms" in JSON.parse(runFleet(["build-lock", file]).out.join("\n"))), "without --sboms, no sboms key");
    });
});

describe("scripts/fleet sbom: the command line", () => {
    it("without --out: the usage, exit 2; a list that does not exist: the file and the fix, exit 1; no docker call either way", async () => {
        const usage = await runFleetAsync(["sbom", "image-refs.txt"]);
        assert.deepStrictEqual([usage.code, usage.out], [2, []]);
        assert.deepStrictEqual(usage.err, [["fleet: sbom needs --out DIR: where each image's <name>.cdx.json is written (or read, with --check)", "", ...commandHelp(findCommand("sbom")!)].join("\n")]);
        const missing = await runFleetAsync(["sbom", "/nonexistent/image-refs.txt", "--out", os.tmpdir()]);
        assert.deepStrictEqual(missing, { code: 1, out: [], err: ["1 problem in the image list:\n  - /nonexistent/image-refs.txt: does not exist. Fix: write the image references, one a line: pulumi stack export | scripts/image-refs.sh > image-refs.txt"] });
    });
});

describe("scripts/fleet sbom: images that cannot be read", () => {
    it("an image the engine cannot pull, or without python3, is named with the engine's or the shell's error; the others are still made and checked", async function () {
        this.timeout(60000);
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-sbom-bin-"));
        const bad = `ghcr.io/ai-system/executor:t@sha256:${"ee".repeat(32)}`;
        const good = `ghcr.io/ai-system/nlu-agent:t@sha256:${"ab".repeat(32)}`;
        const bare = `ghcr.io/ai-system/responder:t@sha256:${"dd".repeat(32)}`;
        writeDockerStandIn(bin, { unpullable: bad, noPython: bare });
        const saved = process.env.PATH;
        process.env.PATH = `${bin}:${saved}`;
        try {
            const out = path.join(bin, "sboms");
            const runs = await sbomImages([bad, good, bad, bare], out, GENERATOR, false);
            const fix = "check that this engine can pull the image (docker login to its registry) and that the image has dpkg-query and python3";
            assert.deepStrictEqual(runs.map((r) => [r.ref, r.problems, r.fix, r.made]), [
                [bad, [`${bad}: docker create exited 1: Error response from daemon: pull access denied for ghcr.io/ai-system/executor:t`], fix, undefined],
                [good, [], undefined, "1 Debian package, 1 Python distribution"],
                [bare, [`${bare}: dpkg-query or python3 in the image exited 127: sh: 1: python3: not found`], fix, "1 Debian package, 1 Python distribution"],
            ]);
            assert.deepStrictEqual(readSbom(fs.readFileSync(path.join(out, "nlu-agent.cdx.json"), "utf8")).inventory.python, [{ name: "certifi", version: "2024.2.2", location: STAND_IN_SITE }]);
            assert.ok(!fs.existsSync(path.join(out, "executor.cdx.json")), "no SBOM for the image that could not be read");
        } finally {
            process.env.PATH = saved;
        }
    });
});
