/**
 * What the engine suite and the benchmark read off a run besides the state: how long builds and
 * health waits took, on the engine's own clock where it has one, and what was pushed and pulled.
 */
import Docker from "dockerode";
import { BuildRecord } from "./providers/buildIo";

export class RunMetrics {
    /** Seconds from create to healthy, by container name, of the latest run. */
    public healthySeconds: Record<string, number> = {};
    /**
     * The engine's own timestamps (ms since the epoch) of each container the latest run started,
     * by container name: its creation, its start, and its first passing health check as the
     * engine logged it.
     */
    public engineTimes: Record<string, { created: number; started: number; healthy: number }> = {};
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
    /** Wall-clock span from the latest run's first container create to its last container healthy, in ms since the epoch. */
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

    /** A container created in this run turned healthy (`info`), or gave up (undefined). */
    protected onContainer(name: string, started: number, info: Docker.ContainerInspectInfo | undefined): void {
        this.healthySeconds[name] = (Date.now() - started) / 1000;
        this.containerWindow = { start: Math.min(this.containerWindow.start || started, started), end: Math.max(this.containerWindow.end, Date.now()) };
        // Read now: State.Health.Log keeps the last five checks only.
        const ok = (info?.State.Health?.Log ?? []).filter((l) => l.ExitCode === 0).map((l) => Date.parse(l.End));
        if (info && ok.length) this.engineTimes[name] = { created: Date.parse(info.Created), started: Date.parse(info.State.StartedAt), healthy: Math.min(...ok) };
    }

    protected onBuild(name: string, record: BuildRecord): void {
        this.buildSeconds[name] = record.seconds;
        this.buildTimes[name] = { start: record.started, end: Date.now() };
        this.buildLogs[name] = record.log;
        this.buildWindow = { start: this.buildWindow.start || record.started, end: Date.now() };
        if (record.pushed) this.pushed.push(record.pushed);
    }
}
