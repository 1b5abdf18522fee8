/**
 * `scripts/fleet publish-sboms`: a deploy's SBOM digests merged into the host's SBOM index
 * (fleet/security/sbomIndex.ts), in the volume every service container mounts read-only, through
 * the host's engine (the stack's fleet:dockerHost, the engine Pulumi deploys to):
 * - the volume is created when absent, with the labels the program gives it (components/fleetHost.ts),
 *   so the program's create finds it (Docker returns the existing volume of that name);
 * - the index is read and written with `docker cp` through a container that is created, never
 *   started, from an empty image imported here: no image is pulled, nothing runs.
 * `docker cp` replaces the file (removed, then written): a container starting at that moment may
 * find it missing or short, and the entrypoint reads it again (fleet-entrypoint, sbom_digest).
 */
import * as fs from "fs";
import { pack } from "tar-stream";
import { SBOM_INDEX, sbomIndexVolumeName } from "../model/defaults";
import { FleetIssue } from "../model/issues";
import { readSbom, sbomDigest } from "../security/sbom";
import { emptySbomIndex, isSha256Digest, mergeSbomIndex, parseSbomIndex, PublishedSbom, renderSbomIndex, SbomIndexMerge } from "../security/sbomIndex";
import { DockerCliError, dockerOk, DockerOptions, tarFiles } from "./dockerCli";
import { missingSbomDir, sbomFilesIn } from "./sbom";

/** The empty image the index is copied through. */
export const INDEX_WRITER_IMAGE = "fleet-sbom-index-writer:1";
/** Where the writer mounts the volume. */
const MOUNT = "/index";

/**
 * The SBOMs DIR holds, each with its subject's digest and its own, or every problem with them:
 * an unreadable SBOM, a subject without a digest, two different SBOMs of one image, none at all.
 */
export function readPublishedSboms(dir: string): { sboms: PublishedSbom[]; problems: FleetIssue[] } {
    if (!fs.existsSync(dir)) return { sboms: [], problems: [missingSbomDir(dir)] };
    const files = sbomFilesIn(dir);
    if (!files.length) return { sboms: [], problems: [{ file: dir, path: "", message: "holds no <name>.cdx.json", fix: `make them: scripts/fleet sbom <refs file> --out ${dir}` }] };
    const problems: FleetIssue[] = [];
    const byImage = new Map<string, PublishedSbom & { file: string }>();
    for (const file of files) {
        const bytes = fs.readFileSync(file);
        let subject;
        try {
            subject = readSbom(bytes.toString("utf8")).subject;
        } catch (e) {
            problems.push({ file, path: "", message: `is not an SBOM scripts/fleet sbom wrote: ${(e as Error).message}`, fix: `make it again: scripts/fleet sbom <refs file> --out ${dir}` });
            continue;
        }
        if (!isSha256Digest(subject.version)) {
            problems.push({ file, path: "metadata.component.version", message: `is ${JSON.stringify(subject.version)}, not the image's digest (sha256:<64 hex>)`, fix: "make SBOMs of pushed images, by tag@digest (pulumi stack export | scripts/image-refs.sh)" });
            continue;
        }
        const s = { imageDigest: subject.version, image: subject.name, sbomDigest: sbomDigest(bytes), file };
        const seen = byImage.get(s.imageDigest);
        if (seen && seen.sbomDigest !== s.sbomDigest) {
            problems.push({ file, path: "", message: `is another SBOM of ${s.image}@${s.imageDigest}, which ${seen.file} describes`, fix: "keep one SBOM an image: the directory of one scan" });
            continue;
        }
        byImage.set(s.imageDigest, s);
    }
    return { sboms: [...byImage.values()].map(({ file: _file, ...s }) => s), problems };
}

/** What `inspect` names, made by `create` when the engine has none. */
async function ensure(inspect: string[], create: () => Promise<unknown>, o: DockerOptions): Promise<void> {
    try {
        await dockerOk(inspect, inspect[inspect.length - 1], o);
    } catch (e) {
        if (!(e instanceof DockerCliError)) throw e;
        await create();
    }
}

function tarOf(entries: { name: string; text: string; mtime: Date }[]): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const p = pack();
        const chunks: Buffer[] = [];
        p.on("data", (c: unknown) => chunks.push(c as Buffer)).on("end", () => resolve(Buffer.concat(chunks))).on("error", reject);
        for (const e of entries) p.entry({ name: e.name, mode: 0o644, uid: 0, gid: 0, mtime: e.mtime }, e.text);
        p.finalize();
    });
}

/** What a publish did: the volume, the merge, and why an earlier index was set aside, if it was. */
export interface PublishResult extends SbomIndexMerge {
    volume: string;
    replacedUnreadable?: string;
}

/** `sboms` merged into `machine`'s index on the engine at `dockerHost`, at `now`. */
export async function publishSboms(sboms: readonly PublishedSbom[], machine: string, dockerHost: string, now: Date): Promise<PublishResult> {
    const o = { dockerHost };
    const volume = sbomIndexVolumeName(machine);
    // The volume with the program's labels; the empty image the writer is created from.
    await ensure(["volume", "inspect", volume], () => dockerOk(["volume", "create", "--label", `fleet.machine=${machine}`, volume], volume, o), o);
    await ensure(["image", "inspect", INDEX_WRITER_IMAGE], async () => dockerOk(["import", "--change", "LABEL fleet.role=sbom-index-writer", "-", INDEX_WRITER_IMAGE], INDEX_WRITER_IMAGE, { ...o, input: await tarOf([]) }), o);
    const id = (await dockerOk(["create", "--network", "none", "--label", "fleet.role=sbom-index-writer", "--volume", `${volume}:${MOUNT}`, INDEX_WRITER_IMAGE, "/none"], volume, o)).trim();
    try {
        let old = emptySbomIndex();
        let replacedUnreadable: string | undefined;
        const read = await readIndexText(id, o);
        if (read !== undefined) {
            const parsed = parseSbomIndex(read);
            if ("unreadable" in parsed) replacedUnreadable = parsed.unreadable;
            else old = parsed;
        }
        const merged = mergeSbomIndex(old, sboms, now);
        await dockerOk(["cp", "-", `${id}:${MOUNT}/`], `${volume}: writing ${SBOM_INDEX.file}`, { ...o, input: await tarOf([{ name: SBOM_INDEX.file, text: renderSbomIndex(merged.index), mtime: now }]) });
        return { ...merged, volume, ...(replacedUnreadable ? { replacedUnreadable } : {}) };
    } finally {
        await dockerOk(["rm", "--force", id], volume, o).catch(() => undefined);
    }
}

/** The index's text in the volume, or undefined when the volume has none yet. */
async function readIndexText(id: string, o: DockerOptions): Promise<string | undefined> {
    try {
        return (await tarFiles(["cp", `${id}:${MOUNT}/${SBOM_INDEX.file}`, "-"], SBOM_INDEX.file, () => true, o)).files[`/${SBOM_INDEX.file}`];
    } catch (e) {
        if (e instanceof DockerCliError && /Could not find the file/i.test(e.message)) return undefined;
        throw e;
    }
}
