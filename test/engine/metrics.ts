/**
 * What the engine suite and the benchmark read off a run besides the state: how long builds and
 * health waits took, on the engine's own clock where it has one, and what was pushed and pulled.
 */
import Docker from "dockerode";
import { BuildRecord } from "./providers/buildIo";

export class RunMetrics {
    /** Seconds from create to healthy (for a container the host's gate waits for, to the gate's end), by container name, of the latest run. */
    public healthySeconds: Record<string, number> = {};
    /**
     * The engine's own timestamps (ms since the epoch) of each container the latest run created:
     * its creation, and its first passing health check as the engine logged it.
     */
    public engineTimes: Record<string, { created: number; healthy: number }> = {};
    /** Seconds of each image build of the latest run, by resource name. */
    public buildSeconds: Record<string, number> = {};
    /** Tags pushed and references pulled in the latest run, in order. */
    public pushed: string[] = [];
    public pulled: string[] = [];
    /** buildx's plain progress output of each build of the latest run, by resource name. */
    public buildLogs: Record<string, string> = {};
    /** Wall-clock start and end of each image build of the latest run (ms since the epoch), by resource name. */
    public buildTimes: Record<string, { start: number; end: number }> = {};
    /** Wall-clock span of the latest run's image builds (they run concurrently), in ms since the epoch. */
    public buildWindow = { start: 0, end: 0 };
    /**
     * Wall-clock span from the latest run's first container create to its last container
     * healthy (the end of its last health wait, in a create or a host's health gate), in ms since the epoch.
     */
    public containerWindow = { start: 0, end: 0 };

    protected resetMetrics(): void {
        this.healthySeconds = {};
        this.engineTimes = {};
        this.buildSeconds = {};
        this.buildTimes = {};
        this.buildLogs = {};
        this.pushed = [];
        this.pulled = [];
        this.buildWindow = { start: 0, end: 0 };
        this.containerWindow = { start: 0, end: 0 };
    }

    /** A container created in this run turned healthy (`info`), gave up (undefined), or was started without a wait. */
    protected onContainer(name: string, started: number, info: Docker.ContainerInspectInfo | undefined): void {
        this.healthySeconds[name] = (Date.now() - started) / 1000;
        this.containerWindow = { start: Math.min(this.containerWindow.start || started, started), end: Math.max(this.containerWindow.end, Date.now()) };
        if (info) this.recordEngineTimes(name, info);
    }

    /**
     * A host's health gate (components/healthGate.ts) ended its wait for `gated`: the window
     * ends there, and the containers of this run it waited for get their engine times, read now.
     */
    protected onHealthGate(gated: Record<string, Docker.ContainerInspectInfo | undefined>): void {
        this.containerWindow = { ...this.containerWindow, end: Math.max(this.containerWindow.end, Date.now()) };
        for (const [name, info] of Object.entries(gated)) {
            if (info && name in this.healthySeconds) {
                this.healthySeconds[name] = (Date.now() - Date.parse(info.Created)) / 1000;
                this.recordEngineTimes(name, info);
            }
        }
    }

    /** Read right after healthy: State.Health.Log keeps the last five checks only. */
    private recordEngineTimes(name: string, info: Docker.ContainerInspectInfo): void {
        const ok = (info.State.Health?.Log ?? []).filter((l) => l.ExitCode === 0).map((l) => Date.parse(l.End));
        if (ok.length) this.engineTimes[name] = { created: Date.parse(info.Created), healthy: Math.min(...ok) };
    }

    protected onBuild(name: string, record: BuildRecord): void {
        this.buildSeconds[name] = record.seconds;
        this.buildTimes[name] = { start: record.started, end: Date.now() };
        this.buildLogs[name] = record.log;
        this.buildWindow = { start: this.buildWindow.start || record.started, end: Date.now() };
        if (record.pushed) this.pushed.push(record.pushed);
    }
}
