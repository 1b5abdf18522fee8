/**
 * A host's SBOM index: for each image digest published to the host, the digest of its SBOM, which
 * every service container reads at start and puts in its start report (002 §H; docs/design.md,
 * "SBOMs"). `scripts/fleet publish-sboms` merges the SBOMs of a deploy into it before `pulumi up`
 * (fleet/ops/sbomPublish.ts); the entrypoint (fleet/render/assets/fleet-entrypoint) reads it.
 *
 * Digests only, not the documents: the entrypoint needs one line, and a host keeps every image's
 * entry for `SBOM_INDEX.keepDays`, so a container of a pinned older image still finds its own.
 */
import { SBOM_INDEX } from "../model/defaults";
import { byName } from "../model/names";

/** The format's version, checked by the entrypoint. */
export const SBOM_INDEX_FORMAT = 1;

export interface SbomIndexEntry {
    /** The image's repository, as the SBOM's subject names it. */
    image: string;
    /** sha256:<hex> of the SBOM file (what build-lock records). */
    sbomDigest: string;
    /** When it was last published, UTC, to the second. */
    publishedAt: string;
}

export interface SbomIndex {
    fleetSbomIndex: typeof SBOM_INDEX_FORMAT;
    /** By image digest (sha256:<hex>, the SBOM's subject version and the container's FLEET_IMAGE_DIGEST). */
    images: Record<string, SbomIndexEntry>;
}

/** One SBOM being published: its subject and its own digest. */
export interface PublishedSbom {
    imageDigest: string;
    image: string;
    sbomDigest: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Whether `s` is a sha256 digest (`sha256:<64 hex>`), as an image's and an SBOM's are written. */
export function isSha256Digest(s: string): boolean {
    return DIGEST.test(s);
}
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** An empty index. */
export function emptySbomIndex(): SbomIndex {
    return { fleetSbomIndex: SBOM_INDEX_FORMAT, images: {} };
}

/**
 * The index a host holds, or why it cannot be read (a publish interrupted while the file was
 * written, or another program's file): the caller then starts a new one and says so.
 */
export function parseSbomIndex(text: string): SbomIndex | { unreadable: string } {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        return { unreadable: `not JSON (${(e as Error).message})` };
    }
    const d = doc as Partial<SbomIndex> | null;
    if (!d || typeof d !== "object" || d.fleetSbomIndex !== SBOM_INDEX_FORMAT || !d.images || typeof d.images !== "object") {
        return { unreadable: `not a fleet SBOM index of format ${SBOM_INDEX_FORMAT}` };
    }
    for (const [digest, e] of Object.entries(d.images)) {
        const ok = isSha256Digest(digest) && e && typeof e.image === "string" && isSha256Digest(String(e.sbomDigest)) && TIME.test(String(e.publishedAt));
        if (!ok) return { unreadable: `its entry ${digest} is not {image, sbomDigest, publishedAt}` };
    }
    return d as SbomIndex;
}

/** What a merge did, for the command's report. */
export interface SbomIndexMerge {
    index: SbomIndex;
    /** Image digests new to the index, published again, and dropped as too old. */
    added: string[];
    updated: string[];
    dropped: string[];
}

/** Seconds-precision UTC, as the index writes it. */
export function indexTime(now: Date): string {
    return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * `old` with `published` put in at `now` (an entry published again gets the new SBOM digest and
 * time), and every other entry last published more than `keepDays` before `now` dropped.
 */
export function mergeSbomIndex(old: SbomIndex, published: readonly PublishedSbom[], now: Date, keepDays = SBOM_INDEX.keepDays): SbomIndexMerge {
    const at = indexTime(now);
    const oldest = now.getTime() - keepDays * 86_400_000;
    const images: Record<string, SbomIndexEntry> = {};
    const dropped: string[] = [];
    for (const [digest, e] of Object.entries(old.images)) {
        if (Date.parse(e.publishedAt) < oldest) dropped.push(digest);
        else images[digest] = e;
    }
    const added: string[] = [];
    const updated: string[] = [];
    for (const p of published) {
        (p.imageDigest in old.images ? updated : added).push(p.imageDigest);
        images[p.imageDigest] = { image: p.image, sbomDigest: p.sbomDigest, publishedAt: at };
    }
    // An aged entry published again is not dropped.
    const gone = dropped.filter((d) => !(d in images));
    return { index: { fleetSbomIndex: SBOM_INDEX_FORMAT, images: sortedByKey(images) }, added: added.sort(byName), updated: updated.sort(byName), dropped: gone.sort(byName) };
}

function sortedByKey<T>(o: Record<string, T>): Record<string, T> {
    return Object.fromEntries(Object.entries(o).sort(([a], [b]) => byName(a, b)));
}

/** The file's text: the same index gives the same bytes. */
export function renderSbomIndex(index: SbomIndex): string {
    return `${JSON.stringify({ fleetSbomIndex: index.fleetSbomIndex, images: sortedByKey(index.images) }, null, 1)}\n`;
}
