/**
 * A stand-in for the docker CLI as `scripts/fleet sbom` calls it (fleet/ops/sbom.ts): every image
 * exports one small Debian file system (dpkg's status, os-release, one Python distribution in the
 * venv), and its dpkg-query and python3 report what that file system holds. Each call is appended
 * to <bin>/calls as "docker <first two arguments>".
 */
import * as fs from "fs";
import * as path from "path";

export const STAND_IN_SITE = "/opt/venv/lib/python3.11/site-packages";

export interface DockerStandIn {
    /** The image whose python3 also reports a distribution the export does not have. */
    extraIn?: string;
    /** The image that cannot be pulled: `docker create` fails as the engine does. */
    unpullable?: string;
    /** The image without python3: the check's shell exits 127. */
    noPython?: string;
}

export function writeDockerStandIn(bin: string, o: DockerStandIn = {}): void {
    const root = path.join(bin, "rootfs");
    const site = STAND_IN_SITE.slice(1);
    fs.mkdirSync(path.join(root, "var/lib/dpkg"), { recursive: true });
    fs.mkdirSync(path.join(root, "etc"), { recursive: true });
    fs.mkdirSync(path.join(root, site, "certifi-2024.2.2.dist-info"), { recursive: true });
    fs.writeFileSync(path.join(root, "var/lib/dpkg/status"), "Package: libexpat1\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.5.0-1\n");
    fs.writeFileSync(path.join(root, "etc/os-release"), 'ID=debian\nVERSION_ID="12"\n');
    fs.writeFileSync(path.join(root, site, "certifi-2024.2.2.dist-info/METADATA"), "Metadata-Version: 2.1\nName: certifi\nVersion: 2024.2.2\n");
    const python = (extra: boolean) => JSON.stringify([[STAND_IN_SITE, "certifi", "2024.2.2"], ...(extra ? [[STAND_IN_SITE, "requests", "2.31.0"]] : [])]);
    // The check's container writes the two answers to files, read back with `docker cp`.
    const answers = path.join(bin, "answers");
    fs.mkdirSync(answers, { recursive: true });
    fs.writeFileSync(path.join(answers, "fleet-deb"), "libexpat1\tamd64\t2.5.0-1\tinstalled\n");
    fs.writeFileSync(path.join(answers, "fleet-py"), `${python(false)}\n`);
    fs.writeFileSync(path.join(answers, "fleet-py-extra"), `${python(true)}\n`);
    fs.writeFileSync(path.join(bin, "docker"), [
        "#!/usr/bin/env bash",
        `echo "docker $1 $2" >> "${bin}/calls"`,
        'entry=; ref=; prev=; for a in "$@"; do [ "$prev" = --entrypoint ] && entry="$a"; case "$a" in *@sha256:*) ref="$a" ;; esac; prev="$a"; done',
        'case "$1" in',
        `  create) if [ "$ref" = "${o.unpullable ?? "none"}" ]; then echo "Error response from daemon: pull access denied for \${ref%%@*}" >&2; exit 1; fi`,
        // One check container per image, named for its image: the images are checked three at a time.
        `    if [ "$entry" = sh ]; then id="c4ec4-$(echo "$ref" | md5sum | cut -c1-8)"; echo "$ref" > "${bin}/$id"; echo "$id"; else echo "c0ffee"; fi ;;`,
        `  export) tar -C "${root}" -cf - . ;;`,
        "  start | rm) ;;",
        `  wait) if [ "$(cat "${bin}/$2")" = "${o.noPython ?? "none"}" ]; then echo 127; else echo 0; fi ;;`,
        '  logs) echo "sh: 1: python3: not found" >&2 ;;',
        `  cp) f="\${2##*/}"; if [ "$f" = fleet-py ] && [ "$(cat "${bin}/\${2%%:*}")" = "${o.extraIn ?? "none"}" ]; then`,
        `      d="$(mktemp -d)"; cp "${answers}/fleet-py-extra" "$d/fleet-py"; tar -C "$d" -cf - fleet-py`,
        `    else tar -C "${answers}" -cf - "$f"; fi ;;`,
        '  *) echo "docker stand-in: $*" >&2; exit 1 ;;',
        "esac",
    ].join("\n"), { mode: 0o755 });
}
