/**
 * `scripts/fleet sbom`: per image, the CycloneDX SBOM made from its files and checked against its
 * own tools (fleet/security/sbom.ts says what each side reads). Both sides go through the docker
 * CLI of the machine that runs it, the same in CI (the engine suite) and in the deploy workflow's
 * scan job (scripts/scan-images.sh):
 * - made: `docker create` then `docker export`, the container's merged file system as a tar
 *   stream (whiteouts applied by the engine), read for dpkg's status, os-release and Python
 *   metadata; nothing of the image runs;
 * - checked: `dpkg-query` and the image's own `python3` (importlib.metadata), in one throwaway
 *   container as root (so no directory is unreadable) with no network.
 */
import * as fs from "fs";
import * as path from "path";
import * as CDX from "@cyclonedx/cyclonedx-library";
import { splitRef } from "../imageplan/planImages";
import { FleetIssue } from "../model/issues";
import { docker, DockerCliError, dockerOk, tarFiles } from "./dockerCli";
import {
    compareSbom, DPKG_QUERY_FORMAT, Generator, ImageIdentity, Inventory, inventoryOf, parseDpkgQuery, parseOsRelease,
    parsePythonInventory, PYTHON_INVENTORY_SCRIPT, readSbom, renderSbom, SBOM_SPEC, sbomDigest,
    metadataLocation,
} from "../security/sbom";

/** A problem with one image: its SBOM cannot be made or checked. */
export class SbomError extends DockerCliError {}

/** The image's repository and digest: the reference's digest, else the image id the engine reports. */
export async function imageIdentity(ref: string): Promise<ImageIdentity> {
    const { repository, digest } = splitRef(ref);
    if (digest) return { repository, digest };
    const id = (await dockerOk(["image", "inspect", "--format", "{{.Id}}", ref], ref)).trim();
    return { repository, digest: id };
}

const WANTED = /^(?:var\/lib\/dpkg\/status|etc\/os-release|usr\/lib\/os-release)$/;

/** The files an SBOM is made from, out of the image's exported file system. */
export async function readImageFiles(ref: string): Promise<{ dpkgStatus?: string; osRelease?: string; metadata: Record<string, string> }> {
    const id = (await dockerOk(["create", "--pull", "missing", "--network", "none", "--entrypoint", "/nonexistent", ref], ref)).trim();
    let read;
    try {
        read = await tarFiles(["export", id], ref, (name) => WANTED.test(name.slice(1)) || metadataLocation(name) !== undefined);
    } finally {
        await docker(["rm", "--force", id]);
    }
    const { files, links } = read;
    // /etc/os-release is a link to ../usr/lib/os-release on Debian.
    const osRelease = files["/etc/os-release"] ?? (links["/etc/os-release"] !== undefined ? files["/usr/lib/os-release"] : undefined) ?? files["/usr/lib/os-release"];
    const metadata = Object.fromEntries(Object.entries(files).filter(([f]) => metadataLocation(f) !== undefined));
    return { dpkgStatus: files["/var/lib/dpkg/status"], osRelease, metadata };
}

/** The image's SBOM and what it holds. */
export async function makeSbom(ref: string, image: ImageIdentity, generator: Generator): Promise<{ text: string; inventory: Inventory; image: ImageIdentity }> {
    const f = await readImageFiles(ref);
    const identity = { ...image, ...(f.osRelease ? { distro: parseOsRelease(f.osRelease) } : {}) };
    const inventory = inventoryOf(f.dpkgStatus, f.metadata);
    return { text: renderSbom(identity, inventory, generator), inventory, image: identity };
}

/**
 * What the image's own dpkg-query and python3 say it holds. They write to files in the container,
 * read back with `docker cp` once it has exited. The first version read a `docker run --rm`'s
 * output, and once in a CI run here dpkg-query's came back empty for one image (exit 0) while the
 * same check passed on every other run; output lost between a short-lived container and its
 * attached client is the likely cause (moby/moby#20848 and docker/docker-py#3247 describe such
 * races). Files in the stopped container do not depend on any stream.
 */
export async function observedInventory(ref: string): Promise<Inventory> {
    const script = 'dpkg-query -W -f "$1" > /tmp/fleet-deb && python3 -c "$2" > /tmp/fleet-py';
    const id = (await dockerOk(["create", "--pull", "missing", "--network", "none", "--user", "0", "--entrypoint", "sh", ref, "-c", script, "sh", DPKG_QUERY_FORMAT, PYTHON_INVENTORY_SCRIPT], `${ref}: the check`)).trim();
    try {
        await dockerOk(["start", id], `${ref}: the check`);
        const code = (await dockerOk(["wait", id], `${ref}: the check`)).trim();
        if (code !== "0") {
            const logs = await docker(["logs", "--tail", "5", id]);
            throw new SbomError(`${ref}: dpkg-query or python3 in the image exited ${code}: ${(logs.stderr || logs.stdout).trim()}`);
        }
        const deb = (await tarFiles(["cp", `${id}:/tmp/fleet-deb`, "-"], `${ref}: the check`, () => true)).files["/fleet-deb"] ?? "";
        const py = (await tarFiles(["cp", `${id}:/tmp/fleet-py`, "-"], `${ref}: the check`, () => true)).files["/fleet-py"] ?? "";
        try {
            return { deb: parseDpkgQuery(deb), python: parsePythonInventory(py) };
        } catch (e) {
            throw new SbomError(`${ref}: python3 did not print the inventory (${(e as Error).message}): ${py.slice(0, 200)}`);
        }
    } finally {
        await docker(["rm", "--force", id]);
    }
}

/**
 * One validator for the process: it compiles the CycloneDX schema on first use and keeps it
 * (cyclonedx-library's BaseJsonValidator caches per instance). A new one per image compiled the
 * schema again each time: 0.35 s of CPU an image, the largest part of the check's own work.
 */
let validator: InstanceType<typeof CDX.Validation.JsonStrictValidator> | undefined;

/** CycloneDX's own schema check of the document (the library's strict JSON validator). */
export async function schemaProblems(text: string): Promise<string[]> {
    validator ??= new CDX.Validation.JsonStrictValidator(SBOM_SPEC.version);
    const errors = await validator.validate(text);
    if (errors === null) return [];
    return (errors as { instancePath?: string; message?: string }[]).map((e) => `CycloneDX ${SBOM_SPEC.version} schema: ${e.instancePath || "/"} ${e.message}`);
}

/** Every problem of one SBOM file against its image: schema, subject and inventory. */
export async function checkSbom(ref: string, image: ImageIdentity, file: string): Promise<string[]> {
    if (!fs.existsSync(file)) return [`${file} does not exist`];
    const text = fs.readFileSync(file, "utf8");
    let read;
    try {
        read = readSbom(text);
    } catch (e) {
        return [`${file} is not JSON (${(e as Error).message})`];
    }
    const schema = await schemaProblems(text);
    return [...schema, ...compareSbom(read, image, await observedInventory(ref))];
}

/** The file name of an image's SBOM in the output directory: the repository's last part. */
export function sbomFileName(ref: string): string {
    return `${path.basename(splitRef(ref).repository)}.cdx.json`;
}

/** The problem of an SBOM directory that is not there (the scan job's artifact was not fetched). */
export function missingSbomDir(dir: string): FleetIssue {
    return { file: dir, path: "", message: "does not exist", fix: "give the directory scripts/scan-images.sh wrote the SBOMs to (the scan job's sbom-<stack> artifact)" };
}

/** The SBOM files `sbom` wrote to DIR, by path, in name order. */
export function sbomFilesIn(dir: string): string[] {
    return fs.readdirSync(dir).filter((n) => n.endsWith(".cdx.json")).sort().map((n) => path.join(dir, n));
}

export interface SbomRun {
    ref: string;
    file: string;
    digest?: string;
    problems: string[];
    /** What to do about the problems, once for the image. */
    fix?: string;
    /** What the SBOM made lists, when one was made. */
    made?: string;
}

/** The fix of an SBOM that does not list its image: a hand-made or stale one is made again; a fresh one is a generator bug. */
function mismatchFix(ref: string, file: string, checkOnly: boolean): string {
    return checkOnly
        ? `make it again from the image: scripts/fleet sbom <file listing ${ref}> --out ${path.dirname(file)}`
        : `the generator misread the image it just read: compare the SBOM with docker run --rm --user 0 --entrypoint dpkg-query ${ref} -W, and fix fleet/security/sbom.ts`;
}

/** How many images are read at once: each is a docker export (I/O) and two short containers. */
const CONCURRENT_IMAGES = 3;

/** Makes (unless checkOnly) and checks one image's SBOM. */
async function sbomImage(ref: string, file: string, generator: Generator, checkOnly: boolean): Promise<SbomRun> {
    let made: string | undefined;
    try {
        // Resolved once: a reference without a digest costs an image inspect.
        const image = await imageIdentity(ref);
        if (!checkOnly) {
            const m = await makeSbom(ref, image, generator);
            fs.writeFileSync(file, m.text);
            const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
            made = `${count(m.inventory.deb.length, "Debian package")}, ${count(m.inventory.python.length, "Python distribution")}`;
        }
        const problems = await checkSbom(ref, image, file);
        const digest = fs.existsSync(file) ? sbomDigest(fs.readFileSync(file)) : undefined;
        return { ref, file, digest, problems, made, ...(problems.length ? { fix: mismatchFix(ref, file, checkOnly) } : {}) };
    } catch (e) {
        if (!(e instanceof DockerCliError)) throw e;
        return { ref, file, problems: [e.message], made, fix: "check that this engine can pull the image (docker login to its registry) and that the image has dpkg-query and python3" };
    }
}

/**
 * Makes (unless checkOnly) and checks the SBOM of each reference, a few images at once; every
 * image is done before any verdict, and the runs come back in the references' order.
 */
export async function sbomImages(refs: string[], outDir: string, generator: Generator, checkOnly: boolean): Promise<SbomRun[]> {
    fs.mkdirSync(outDir, { recursive: true });
    const owner = new Map<string, string>();
    const jobs = [...new Set(refs)].map((ref) => {
        const file = path.join(outDir, sbomFileName(ref));
        const clash = owner.get(file);
        if (!clash) owner.set(file, ref);
        return { ref, file, clash };
    });
    const runs: SbomRun[] = new Array(jobs.length);
    let next = 0;
    const worker = async () => {
        while (next < jobs.length) {
            const i = next++;
            const { ref, file, clash } = jobs[i];
            if (clash) {
                runs[i] = { ref, file, problems: [`its SBOM file ${file} is also ${clash}'s`], fix: "scan images of distinct repository names in one list" };
                continue;
            }
            runs[i] = await sbomImage(ref, file, generator, checkOnly);
        }
    };
    await Promise.all(Array.from({ length: CONCURRENT_IMAGES }, worker));
    return runs;
}
