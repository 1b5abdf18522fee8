/**
 * One service's container replaced by a new image, as a deploy replaces it, beside `docker
 * compose up -d --wait <service>` of the same change, alternated round by round (issue 25). A
 * probe asks the service's published health endpoint 20 times a second through each; the figures
 * are its failed requests and the longest time between two answered ones, and the seconds from
 * the command's start to its return (then the new container is healthy and the old one gone:
 * the harness deletes it at the end of the run, compose before it starts the new one).
 *
 * Two images of the service, A and B (its source, and its source with one comment more), are
 * built before the rounds; each round moves the service to the other one. The program's side
 * changes the source and runs `up` (a cached rebuild, then the replacement); compose's runs the
 * host under compose from the same images, then switches the service's image in its file.
 */
import { execFile, execFileSync } from "child_process";
import { promisify } from "util";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { MergedStack } from "../fleet/pulumi/config";
import { containerName } from "../fleet/model/names";
import { EngineHarness } from "../test/engine/harness";
import { hostProbe as probe, Probe } from "../test/engine/probe";
import { labelOf } from "./compose";
import { composeFileOf } from "./health";
import { alternated, median, spread } from "./stats";

const run = promisify(execFile);

interface Sample { seconds: number; probe: Probe }

/**
 * @param stack    the stack's config (the harness holds the host converged from it)
 * @param app      the application copy the stack builds from
 * @param service  the service replaced; `file` its source in the application
 */
export async function replacementFigures(title: string, harness: EngineHarness, stack: () => MergedStack, app: string, service: string, file: string, rounds: number): Promise<void> {
    const source = path.join(app, file);
    const original = fs.readFileSync(source, "utf8");
    const versions = [original, `${original}# bench: image B\n`];
    const outputs = () => (harness.stackOutputs[stack().stack].services as Record<string, { health: string }>)[service];
    // The service's own container, by its label: the public alias is its front's (an HAProxy
    // image), which this looked for before the fronts took the aliases, and compose then ran
    // the front's image as the service, never healthy.
    const imageOf = () => harness.containerInputs().find((c) => labelOf(c, "fleet.service") === service)!.image as string;
    // Both images built (and the host on A) before the rounds.
    const images: string[] = [];
    for (const v of [1, 0]) {
        fs.writeFileSync(source, versions[v]);
        await harness.run(stack());
        images[v] = imageOf();
    }
    let current = 0;
    const samples: Record<string, Sample[]> = { fleet: [], compose: [] };
    console.log(`\n${title}: ${service} replaced by another image, ${rounds} alternated rounds, a probe at 20 requests/s on its health port`);
    for (const [r, order] of alternated(["fleet", "compose"], rounds).entries()) {
        const line: string[] = [];
        for (const v of order) {
            const next = 1 - current;
            const s = v === "fleet"
                ? await fleetSide(harness, stack, source, versions[next], outputs().health)
                : await composeSide(harness, stack, service, images[next], outputs().health, source, versions[next]);
            current = next;
            samples[v].push(s);
            line.push(`${v} ${s.seconds.toFixed(1)} s, ${s.probe.failed} failed of ${s.probe.ok + s.probe.failed}, longest gap ${(s.probe.longestGapMs / 1000).toFixed(1)} s`);
        }
        console.log(`  round ${r + 1}: ${line.join("; ")}`);
    }
    for (const v of ["fleet", "compose"]) {
        const xs = samples[v];
        console.log(`  ${v.padEnd(8)} until it returns: ${spread(xs.map((x) => x.seconds))}; failed requests: median ${median(xs.map((x) => x.probe.failed))} (max ${Math.max(...xs.map((x) => x.probe.failed))}); longest gap: ${spread(xs.map((x) => x.probe.longestGapMs / 1000))}`);
    }
    fs.writeFileSync(source, original);
    await harness.run(stack());
}

/** `pulumi up` after the source change: the cached rebuild and the replacement. */
async function fleetSide(harness: EngineHarness, stack: () => MergedStack, source: string, content: string, health: string): Promise<Sample> {
    fs.writeFileSync(source, content);
    const p = probe(health);
    const started = Date.now();
    try {
        await harness.run(stack());
    } catch (e) {
        await p.stop();
        throw e;
    }
    const seconds = (Date.now() - started) / 1000;
    return { seconds, probe: await p.stop() };
}

/**
 * The host under compose from the images the harness runs now (untimed), then the service's
 * image switched in the file and `docker compose up -d --wait <service>` timed; afterwards the
 * source takes the same change and the host goes back to the harness (untimed), on that image.
 */
async function composeSide(harness: EngineHarness, stack: () => MergedStack, service: string, image: string, health: string, source: string, content: string): Promise<Sample> {
    const file = composeFileOf(harness);
    await harness.forgetContainers();
    const compose = (...args: string[]) => execFileSync("/usr/bin/docker", ["compose", "-p", "fleet-bench", "-f", file, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    const name = containerName(service);
    try {
        compose("up", "-d", "--wait", "--wait-timeout", "600");
        const doc = parse(fs.readFileSync(file, "utf8")) as { services: Record<string, { image: string }> };
        doc.services[name].image = image;
        fs.writeFileSync(file, stringify(doc));
        const p = probe(health);
        const started = Date.now();
        try {
            // Not execFileSync: the probe runs on this process's event loop.
            await run("/usr/bin/docker", ["compose", "-p", "fleet-bench", "-f", file, "up", "-d", "--wait", "--wait-timeout", "600", name]);
        } catch (e) {
            await p.stop();
            throw e;
        }
        const seconds = (Date.now() - started) / 1000;
        return { seconds, probe: await p.stop() };
    } finally {
        compose("down", "--timeout", "10");
        fs.writeFileSync(source, content);
        await harness.run(stack());
    }
}
