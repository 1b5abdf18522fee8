/**
 * Diagrams of the fleet, generated from the data (Mermaid, rendered by GitHub in the README's
 * docs): the family hierarchy, and which services run on which host. Deterministic text, so a
 * test can fail when the committed file is out of date.
 */
import { byName } from "../model/names";
import { FleetData } from "../model/schema";

function id(name: string): string {
    return name.replace(/[^A-Za-z0-9]/g, "_");
}

export function familyDiagram(d: FleetData): string[] {
    const lines = ["```mermaid", "graph TD"];
    for (const [name, f] of Object.entries(d.families)) {
        const from = f.upstream ? `<br/>FROM ${f.upstream.image}:${f.upstream.tag}` : "";
        lines.push(`  ${id(name)}["${name}${f.cuda ? ` (CUDA ${f.cuda.tracks.join("/")})` : ""}${from}"]`);
    }
    for (const [name, f] of Object.entries(d.families)) {
        if (f.parent) lines.push(`  ${id(f.parent)} --> ${id(name)}`);
        // 002 §B draws these under another family; they are built FROM their upstream instead.
        if (f.inherits) lines.push(`  ${id(f.inherits)} -.-> ${id(name)}`);
    }
    lines.push("```");
    return lines;
}

export function placementDiagram(d: FleetData): string[] {
    const lines = ["```mermaid", "graph LR"];
    for (const host of Object.keys(d.hosts)) {
        const gpu = d.hosts[host].gpu;
        lines.push(`  subgraph ${id(host)}["${host}${gpu ? ` (${gpu.model})` : ""}"]`);
        const byFamily = new Map<string, string[]>();
        for (const [name, s] of Object.entries(d.services)) {
            if (s.hosts.includes(host)) byFamily.set(s.family, [...(byFamily.get(s.family) ?? []), name + (s.gatedBy ? " (gated)" : "") + (s.enabled ? "" : " (off)")]);
        }
        for (const [family, names] of [...byFamily].sort(([a], [b]) => byName(a, b))) {
            lines.push(`    ${id(host)}_${id(family)}["${family}<br/>${names.sort(byName).join("<br/>")}"]`);
        }
        lines.push("  end");
    }
    lines.push("```");
    return lines;
}

/** docs/fleet-diagrams.md */
export function renderDiagrams(d: FleetData): string {
    return [
        "# Fleet diagrams",
        "",
        "Generated from fleet/data by `npm run fleet -- diagram`; a test fails when this file is out of date.",
        "",
        "## Family hierarchy",
        "",
        "Solid arrows: built FROM. Dashed: drawn under that family in 002 §B, built FROM its upstream (see families.yaml).",
        "",
        ...familyDiagram(d),
        "",
        "## Services by host and family",
        "",
        "(gated): left out while RealTimeAudioPipeline is enabled (002 P0.3). (off): disabled in services.yaml.",
        "",
        ...placementDiagram(d),
        "",
    ].join("\n");
}
