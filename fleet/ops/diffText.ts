/**
 * `scripts/fleet diff`'s report as the reviewer reads it (the pull-request workflow comments it):
 * per stack, sorted by stack, image and container name, so the same two refs always give the
 * same text.
 */
import { byName } from "../model/names";
import { ContainerChange, ContainerChangeKind, FRONT_REPLACED, ImageChange, PEER_FRONT_REPLACED, StackDiff } from "./diffCompare";
import { DiffDocument, RefView } from "./diff";
import { WORKING_TREE } from "./diffEval";

const DONE: Record<ContainerChangeKind, string> = { replace: "replaced", update: "updated in place", reload: "reloaded", add: "added", remove: "removed" };

const shown = (v: string | null) => v ?? "(none)";
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function summary(s: StackDiff): string {
    const parts = s.images.length ? [plural(s.images.length, "image moves", "images move")] : [];
    for (const kind of Object.keys(DONE) as ContainerChangeKind[]) {
        const n = s.containers.filter((c) => c.change === kind).length;
        if (n) parts.push(`${plural(n, "container", "containers")} ${DONE[kind]}`);
    }
    return parts.length ? parts.join(", ") : "no change";
}

/**
 * What the stack's replacements cost, before the rows: how many of its service containers are
 * replaced, and each reason with the number it replaces, most first (a reason that replaces a
 * whole host stands out); then the host front, whose replacement pauses every service of the host.
 */
export function costLines(s: StackDiff, shown = 5): string[] {
    const front = (c: ContainerChange) => c.because.includes(FRONT_REPLACED);
    const peer = (c: ContainerChange) => c.because.some((b) => b.startsWith(PEER_FRONT_REPLACED));
    const replaced = s.containers.filter((c) => c.change === "replace" && !front(c) && !peer(c));
    const fronts = s.containers.filter((c) => c.change === "replace" && front(c));
    const peers = s.containers.filter((c) => c.change === "replace" && peer(c));
    const out: string[] = [];
    if (replaced.length) {
        const by = new Map<string, number>();
        for (const c of replaced) for (const b of new Set(c.because)) by.set(b, (by.get(b) ?? 0) + 1);
        const reasons = [...by].sort(([a, x], [b, y]) => y - x || byName(a, b));
        out.push(`  replaces ${replaced.length} of its ${s.serviceContainers} service containers:`);
        out.push(...reasons.slice(0, shown).map(([why, n]) => `    ${n} because ${why}`));
        if (reasons.length > shown) out.push(`    and ${reasons.length - shown} more reasons, in the rows below`);
    }
    else if (s.containers.length) out.push(`  replaces none of its ${s.serviceContainers} service containers`);
    if (fronts.length) out.push("  replaces the host front: every service of the host pauses until the new one runs (seconds)");
    if (peers.length) out.push(`  replaces ${plural(peers.length, "peer front", "peer fronts")} (${peers.map((c) => c.service).join(", ")}): the host's containers cannot reach each of those services for about a second`);
    return out;
}

function image(i: ImageChange): string[] {
    return [`  image ${i.image}: ${shown(i.base)} -> ${shown(i.head)}`, ...i.because.map((b) => `    ${b}`)];
}

function container(c: ContainerChange): string[] {
    return [
        `  ${c.change} ${c.container} (${c.service})`,
        ...c.fields.map((f) => `    ${f.path}: ${shown(f.base)} -> ${shown(f.head)}`),
        ...c.because.map((b) => `    because: ${b}`),
    ];
}

function refLine(r: RefView): string {
    return r.ref === WORKING_TREE ? `the working tree (on ${r.commit.slice(0, 7)})` : `${r.ref} (${r.commit.slice(0, 7)})`;
}

/** A list of files, the first `n` named. */
function files(names: string[], n = 10): string {
    return names.length <= n ? names.join(", ") : `${names.slice(0, n).join(", ")} and ${names.length - n} more`;
}

export function renderDiff(doc: DiffDocument): string[] {
    const out = [`diff ${refLine(doc.base)} -> ${refLine(doc.head)}`, ...doc.unknown];
    for (const r of [doc.base, doc.head]) for (const a of r.appRepo) out.push(`application repository at ${r.ref}: ${a}`);
    if (doc.uncommitted.length) {
        out.push(`this checkout's files differ from ${doc.head.ref} (${files(doc.uncommitted)}): not in this comparison of commits; scripts/fleet diff ${doc.base.ref} compares ${doc.base.ref} with the files as they are`);
    }
    if (doc.codeChanged.length) {
        out.push(`the program's code differs between the refs (${doc.codeChanged.join(", ")}): both are evaluated with this checkout's code, so what that change does is not shown here (pulumi preview shows it)`);
    }
    for (const s of doc.stacks) {
        out.push("", `stack ${s.stack}: ${summary(s)}`, ...costLines(s));
        s.images.forEach((i) => out.push(...image(i)));
        s.containers.forEach((c) => out.push(...container(c)));
    }
    return out;
}

/** `diff --json`: the document, two-space indented. */
export function diffJson(doc: DiffDocument): string {
    return JSON.stringify(doc, null, 2);
}
