import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { FleetFiles } from "../fleet/model/check";
import { FleetError, formatIssue } from "../fleet/model/issues";
import { DEFAULT_FLEET_DIR, loadFleet } from "../fleet/model/load";
import { FleetData } from "../fleet/model/schema";
import { MergedStack } from "../fleet/pulumi/config";
import { fleetKeys, parseStackConfig, StackConfig } from "../fleet/model/stack";
import { runbookStack } from "./mocks";

export const FILES: FleetFiles = { hosts: "hosts.yaml", families: "families.yaml", services: "services.yaml" };

/** A deep copy of the repository's validated fleet data. */
export function realFleet(): FleetData {
    return structuredClone(loadFleet(DEFAULT_FLEET_DIR));
}

/** The formatted messages of the FleetError `fn` throws; fails when it throws nothing. */
export function fleetErrors(fn: () => unknown): string[] {
    try {
        fn();
    } catch (e) {
        if (e instanceof FleetError) return e.issues.map(formatIssue);
        throw e;
    }
    throw new Error("expected a FleetError, nothing was thrown");
}

/** The application fixture tree: every service's entrypoint, sources and (empty) lock. */
export const FIXTURE_APP = path.join(__dirname, "fixtures", "app");

/**
 * Raw `fleet:` keys for the unit tests of the program's own validation (test/fleet/stack.test.ts),
 * which feed parseStackConfig broken input on purpose. No other test builds config from it.
 */
export const BASE_STACK = { dockerHost: "ssh://ops@host", advertiseAddress: "192.0.2.10", registry: "ghcr.io", org: "acme", portOffset: 0, appRepo: FIXTURE_APP, sourceUrl: "https://github.com/acme/fleet", peerStack: "acme/fleet/mainpc" };

/**
 * The validated config of the host's committed stack (Pulumi.<machine>.yaml through the CLI's
 * rules, with the fixture application), with typed changes for planner unit tests.
 */
export function stackFor(machine: string, change: Partial<StackConfig> = {}, fleet = realFleet()): StackConfig {
    return parseStackConfig({ ...fleetKeys(runbookStack(machine).config), ...change }, fleet, `Pulumi.${machine}.yaml`);
}

/** The program's validated config of a stack the loader merged (as index.ts gets it). */
export function parsedStack(merged: MergedStack, fleet = realFleet()): StackConfig {
    return parseStackConfig(fleetKeys(merged.config), fleet, `Pulumi.${merged.stack}.yaml`);
}

/** Compares with test/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead. */
export function golden(name: string, actual: string): void {
    const file = path.join(__dirname, "golden", name);
    if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(file, actual);
    assert.strictEqual(actual, fs.readFileSync(file, "utf8"), `${name} differs from its golden file (UPDATE_GOLDEN=1 npm test rewrites it)`);
}

/** Writes the raw YAML files of a fleet data directory into a fresh temp dir. */
export function writeFleetDir(files: Record<string, string | object>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-data-"));
    for (const [name, content] of Object.entries(files)) {
        fs.writeFileSync(path.join(dir, name), typeof content === "string" ? content : stringify(content));
    }
    return dir;
}

/** The repository's data files as text, to copy and break. */
export function realFleetTexts(): Record<string, string> {
    return Object.fromEntries(["hosts.yaml", "families.yaml", "services.yaml"].map((f) => [f, fs.readFileSync(path.join(DEFAULT_FLEET_DIR, f), "utf8")]));
}

/** The rows of seed 002 §F, copied verbatim into test/fixtures. */
export interface SeedRow { service: string; machines: string; needs: string; family: string; servicePort: number; healthPort: number }
export function seed002Rows(): SeedRow[] {
    const lines = fs.readFileSync(path.join(__dirname, "fixtures", "seed-002-fleet-table.tsv"), "utf8").trim().split("\n").slice(1);
    return lines.map((l) => {
        const [service, machines, needs, family, ports] = l.split("\t");
        const [s, h] = ports.split("/").map((p) => Number(p.trim()));
        return { service, machines, needs, family, servicePort: s, healthPort: h };
    });
}

/** The engine tests' stand-in package index (scripts/package-index.sh). */
export const STAND_IN_SPEC = path.join(__dirname, "fixtures", "package-index", "distributions.json");
export interface StandIn { name: string; version: string; import: string; requires: string[]; scripts?: Record<string, string>; namespace?: string; pth?: string; files?: string[] }
export function standIns(): StandIn[] {
    return (JSON.parse(fs.readFileSync(STAND_IN_SPEC, "utf8")) as { distributions: StandIn[] }).distributions;
}
