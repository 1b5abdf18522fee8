/**
 * The ops CLI's commands as the operator reads them: `scripts/fleet help`, `scripts/fleet
 * <command> --help`, and the usage printed on a wrong command line. The README lists every
 * command here (test/readme.test.ts fails when one is missing).
 */

export interface CommandHelp {
    name: string;
    /** Arguments and options, as typed. */
    synopsis: string;
    /** One line, for the command list. */
    summary: string;
    /** What `<command> --help` adds. */
    details: string[];
    /** Options that take a value. */
    options: string[];
    /** Options without a value. */
    flags: string[];
    /** It evaluates a stack: it takes the stack options (STACK_OPTION_NAMES). */
    stack?: boolean;
}

/** The options of every command that evaluates a stack (fleet/ops/commands.ts `stackInputs`), as typed. */
const STACK_SYNOPSIS = "[--config [STACK=]FILE]... [--app-repo DIR] [--fleet DIR]";
export const STACK_OPTION_NAMES = ["config", "app-repo", "fleet"];
/** What they do, the same lines in each command's help. */
const STACK_OPTION_LINES = [
    "--config [STACK=]FILE  an override file of a stack file's shape on top of every stack, or of",
    "                       STACK (repeatable): e.g. the host's fleet:advertiseAddress",
    "--app-repo DIR         the application repository's checkout in place of fleet:appRepo",
    "--fleet DIR            the fleet data in place of fleet/data",
];
/** What a command that answers with what it can says of what no fresh clone holds. */
const UNKNOWN_LINES = [
    "From a fresh clone it answers with what it can: a host address or an application repository",
    "it lacks is named once at the top (\"not known here: ...\") with the option that supplies it.",
];

export const COMMANDS: readonly CommandHelp[] = [
    {
        name: "validate", synopsis: "validate [--fleet DIR]", options: ["fleet"], flags: [],
        summary: "check the fleet data; every problem with its fix, or a one-line summary",
        details: [
            "Checks fleet/data (or DIR): ports, families, GPU placement, hosts. Prints every problem at",
            "once with file, path and fix. Exit 1 on any problem.",
        ],
    },
    {
        name: "check-stack", synopsis: "check-stack <stack>", options: STACK_OPTION_NAMES, flags: [], stack: true,
        summary: "what `pulumi up` would refuse in Pulumi.<stack>.yaml, each with the command that fixes it",
        details: [
            "Merges Pulumi.yaml and Pulumi.<stack>.yaml with the Pulumi CLI's rules, then runs every",
            "check the program runs before it creates a resource: the fleet: keys, the data, the",
            "application repository (entrypoints, sources, locks), the build lock of fleet:pinAll, and",
            "the cross-stack rules against the peer stack's committed config. Exit 1 on any problem,",
            "a value left to the operator (the host's address) included.",
            ...STACK_OPTION_LINES,
        ],
    },
    {
        name: "plan", synopsis: "plan <stack> [--json]", options: STACK_OPTION_NAMES, flags: ["json"], stack: true,
        summary: "what the stack runs: per container its image, pin, address, ports, GPU, limits, start, health",
        details: [
            "Per container: the image reference (the tag this commit builds, the digest where known; for",
            "a pinned service the pin, fleet:pins[i] or the build lock of fleet:pinAll, and the build it",
            "replaces), the address and ports it publishes, the GPU, the CPU, memory and PIDs limits, the",
            "container it starts after, and its health check. Then the family images, in build order, and",
            "the services the stack does not deploy, with why.",
            "--json prints the same as one JSON document (version 1; fleet/ops/planView.ts describes it).",
            ...UNKNOWN_LINES,
            ...STACK_OPTION_LINES,
        ],
    },
    {
        name: "image-targets", synopsis: "image-targets <stack>", options: STACK_OPTION_NAMES, flags: [], stack: true,
        summary: "the URNs that build the stack's images alone (pulumi up --target), one a line",
        details: [
            "Standard output: one URN a line, read by the deploy workflow. Standard error: what is left",
            "out and why (pinned services and the families only they use: nothing is built for them),",
            "and what could not be known here (the URNs need neither the host nor the application).",
            ...STACK_OPTION_LINES,
        ],
    },
    {
        name: "lock-targets", synopsis: "lock-targets [--fleet DIR]", options: ["fleet"], flags: [],
        summary: "per service: python, requirements .in and .txt, family image (scripts/lock-requirements.sh)",
        details: ["One service a line: service, Python version, requirements .in, hash-locked .txt, family image."],
    },
    {
        name: "build-lock", synopsis: "build-lock <export.json|-> [--sboms DIR]", options: ["sboms"], flags: [],
        summary: "build-lock.json from `pulumi stack export` (- reads standard input)",
        details: [
            "The digests a deploy built and ran, by image and container: what fleet:pinAll rolls back to.",
            "--sboms DIR adds each built image's SBOM digest (sha256 of its .cdx.json in DIR, as `sbom`",
            "wrote it); a built image without its SBOM there is an error.",
        ],
    },
    {
        name: "rollback", synopsis: "rollback <stack> --from F [--out F]", options: ["from", "out", ...STACK_OPTION_NAMES], flags: [], stack: true,
        summary: "the build lock of a past deployment (pulumi stack export --version N, or a DIY history checkpoint), for fleet:pinAll",
        details: [
            "Reads what Pulumi recorded of one deployment of <stack>: `pulumi stack export --version N`",
            "(an UntypedDeployment) or a self-managed backend's history checkpoint (a VersionedCheckpoint,",
            ".json, .json.gz or .json.zst). Writes the build lock fleet:pinAll takes (--out, default",
            "build-lock-<stack>.json) and says per container what the rollback runs: the same image as",
            "this commit builds, that deployment's image, a service that did not run then, or one",
            "removed since. Nothing is written for a file of another stack or one that records no image.",
            ...STACK_OPTION_LINES,
        ],
    },
    {
        name: "cve-gate", synopsis: "cve-gate <report.json> --image REF --allowlist FILE", options: ["image", "allowlist"], flags: [],
        summary: "the deploy's CVE decision on one image's Trivy JSON report: HIGH/CRITICAL fail unless allowed for its digest",
        details: [
            "Reads `trivy image --format json` of REF (tag@digest; the report must be of that digest) and",
            "the allow-list (security/trivy-allowlist.yaml: image digest -> vulnerability IDs). Every",
            "HIGH or CRITICAL finding fails, exit 1, unless the allow-list lists it for this digest; an",
            "allowance lapses when the image is rebuilt. scripts/scan-images.sh runs it per image.",
        ],
    },
    {
        name: "sbom", synopsis: "sbom <refs file|-> --out DIR [--check]", options: ["out"], flags: ["check"],
        summary: "per image, its CycloneDX SBOM made from its files and checked against its own dpkg and python",
        details: [
            "For each image reference (tag@digest, one a line): writes DIR/<repository name>.cdx.json, a",
            "CycloneDX 1.6 JSON document of every installed Debian package (/var/lib/dpkg/status) and",
            "every Python distribution (*.dist-info, *.egg-info, anywhere) of the image's exported file",
            "system; the same image gives the same bytes. Then checks it: CycloneDX's schema, and that it",
            "lists exactly what the image's own dpkg-query and python3 (importlib.metadata) report, each",
            "at its exact version, and nothing else. --check only checks the SBOMs DIR holds. Needs the",
            "docker CLI and the images (pulled if missing). Exit 1 when any image's SBOM is not exact.",
        ],
    },
    {
        name: "publish-sboms", synopsis: "publish-sboms <stack> <dir>", options: [...STACK_OPTION_NAMES], flags: [], stack: true,
        summary: "the SBOMs' digests into the host's SBOM index, which each container's start report reads",
        details: [
            "Reads every <name>.cdx.json in <dir> (the scan job's SBOMs, as `sbom` wrote them) and merges",
            "each image digest's SBOM digest into index.json of the volume fleet-<machine>-sboms on the",
            "stack's fleet:dockerHost, creating the volume when absent. Service containers mount it",
            "read-only and put their image's entry in their start report (sbomDigest). Run it before",
            "`pulumi up`: a container reads the index when it starts. Entries not published again for",
            "180 days are dropped. Nothing is written when any SBOM is unreadable or not of a digest.",
            ...STACK_OPTION_LINES,
        ],
    },
    {
        name: "diagram", synopsis: "diagram [--out FILE] [--fleet DIR]", options: ["out", "fleet"], flags: [],
        summary: "write the family and placement diagrams (default docs/fleet-diagrams.md)",
        details: ["Mermaid diagrams of the family hierarchy and of each host's services."],
    },
    {
        name: "dockerfiles", synopsis: "dockerfiles [--out DIR] [--fleet DIR] [--cuda TRACK]", options: ["out", "fleet", "cuda"], flags: [],
        summary: "write every family's and service's Dockerfile, for review (default out/dockerfiles)",
        details: ["--cuda picks the CUDA track of the GPU families (cu118, cu121, cu124; default cu121)."],
    },
    {
        name: "diff", synopsis: "diff <base-ref> [<head-ref>] [--json]", options: STACK_OPTION_NAMES, flags: ["json"], stack: true,
        summary: "per stack, the images whose tag moves and the containers replaced, added or removed, with why",
        details: [
            "Evaluates every stack at both refs with the program's own plan and tag code, each ref in a",
            "temporary git worktree; without <head-ref>, the head is this checkout's files as they are",
            "(uncommitted and untracked ones too, as git diff <base-ref> compares). With both refs and",
            "head HEAD, the files that differ from HEAD are named, as left out. The application",
            "repository at the commit each ref's app-repo.yaml pins (where it pins none, the checkout the",
            "stacks name, as it is). Lists per stack each image whose tag moves, with why (its input",
            "files, its Dockerfile, its parent), and each container replaced (any change of its inputs:",
            "the program replaces containers on every change), updated in place (limits.pidsLimit),",
            "added or removed, with the fields that change and why (the data entry or config key).",
            "Reads no stack state: changes made by hand on a host are `pulumi preview`'s to show.",
            ...UNKNOWN_LINES,
            "--json                 one JSON document (version 1; fleet/ops/diff.ts describes it)",
            ...STACK_OPTION_LINES,
            "Exit 0 with or without changes; 1 when a ref or its data does not load.",
        ],
    },
    {
        name: "app-repo", synopsis: "app-repo", options: [], flags: [],
        summary: "where the workflows check out the application repository: repository=, ref=, path= lines",
        details: [
            "From app-repo.yaml (repository, and the commit to build) and the stacks' fleet:appRepo, which",
            "must name one checkout outside this repository; path is relative to the directory that holds",
            "this checkout ($GITHUB_WORKSPACE). The workflows append it to $GITHUB_OUTPUT and check the",
            "repository out there with its full history. Exit 1 while app-repo.yaml pins no commit.",
        ],
    },
    {
        name: "help", synopsis: "help [command]", options: [], flags: [],
        summary: "this list, or one command's help (also: --help, <command> --help)",
        details: [],
    },
];

const PROGRAM = "scripts/fleet";

export function findCommand(name: string): CommandHelp | undefined {
    return COMMANDS.find((c) => c.name === name);
}

/** A command as the list shows it: the stack options as one word. */
const listed = (c: CommandHelp): string => (c.stack ? `${c.synopsis} [stack options]` : c.synopsis);

/** The command list. */
export function usage(): string[] {
    const width = Math.max(...COMMANDS.map((c) => listed(c).length));
    return [
        `usage: ${PROGRAM} <command> [arguments]   (or: npm run fleet -- <command>)`,
        "",
        ...COMMANDS.map((c) => `  ${listed(c).padEnd(width)}  ${c.summary}`),
        "",
        `stack options, the same for every command that evaluates a stack: ${STACK_SYNOPSIS}`,
        ...STACK_OPTION_LINES.map((l) => `  ${l}`),
        "",
        "Exit codes: 0 fine, 1 the data or config has problems, 2 the command line is wrong.",
        `${PROGRAM} <command> --help tells more about one command.`,
    ];
}

/** `<command> --help`. */
export function commandHelp(c: CommandHelp): string[] {
    return [`usage: ${PROGRAM} ${c.stack ? `${c.synopsis} ${STACK_SYNOPSIS}` : c.synopsis}`, "", c.summary, ...(c.details.length ? ["", ...c.details] : [])];
}

/** Edits (insert, delete, substitute) between two strings. */
function distance(a: string, b: string): number {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const cur = [i];
        for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
        prev = cur;
    }
    return prev[b.length];
}

/**
 * The command meant by a mistyped one: the only command it begins, else the nearest within a
 * third of its length (at least 2 edits); undefined when none is that near.
 */
export function closestCommand(typed: string): string | undefined {
    const names = COMMANDS.map((c) => c.name);
    const prefixed = names.filter((n) => typed.length >= 3 && n.startsWith(typed));
    if (prefixed.length === 1) return prefixed[0];
    const limit = Math.max(2, Math.floor(typed.length / 3));
    const ranked = names.map((n) => ({ n, d: distance(typed, n) })).filter((x) => x.d <= limit).sort((a, b) => a.d - b.d);
    return ranked[0]?.n;
}
