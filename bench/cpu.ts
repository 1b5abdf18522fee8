/**
 * Where a run's CPU time went, on the machine that runs both the deploy and the engine (the
 * local stack): the containers themselves, the engine (dockerd, containerd and its shims), and the
 * rest, which during a run is the deploying tool (the harness and its start commands' bash and
 * `docker` CLI processes, or compose). On a 2-core machine the host's convergence is bound by
 * CPU, so the rest is what a start policy adds to the containers' own work.
 *
 * Read from Linux's own counters: /proc/stat (proc(5): the `cpu` line, in USER_HZ ticks), the
 * engine's processes' utime, stime, cutime and cstime (proc(5) /proc/<pid>/stat fields 14 to 17:
 * cutime counts the reaped children, the shims' `runc` calls), and the containers' parent cgroup
 * (cgroup v1 `cpuacct/docker/cpuacct.usage`, in ns; cgroup v2 `docker/cpu.stat` usage_usec),
 * which keeps the time of containers removed since (cpuacct charges up the hierarchy).
 */
import * as fs from "fs";

/**
 * CPU seconds spent so far, by owner; `containers` is undefined where Docker's cgroup is not found;
 * `self` is this process's own (process.cpuUsage: the harness standing in for Pulumi's engine and
 * the program, not the start commands it spawns), where taken.
 */
export interface CpuSnapshot { total: number; engine: number; containers?: number; self?: number }

/** USER_HZ: Linux reports /proc times in 100ths of a second on every architecture it exports them for (proc(5)). */
const TICKS_PER_SECOND = 100;

/** The busy seconds of /proc/stat's `cpu` line: every field but idle and iowait. */
export function busySeconds(stat: string): number {
    const line = stat.split("\n").find((l) => l.startsWith("cpu "));
    if (!line) throw new Error("/proc/stat: no `cpu` line");
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + (steal || 0)) / TICKS_PER_SECOND;
}

/** utime + stime + cutime + cstime of a /proc/<pid>/stat line (its comm may hold spaces: fields count from the last `)`). */
export function processSeconds(stat: string): number {
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state); fields 14 to 17 are rest[11] to rest[14].
    return rest.slice(11, 15).map(Number).reduce((a, b) => a + b, 0) / TICKS_PER_SECOND;
}

/** Whether a process's command line makes it part of the engine. */
export function isEngine(cmdline: string): boolean {
    const exe = cmdline.split("\0")[0].split("/").pop() ?? "";
    return exe === "dockerd" || exe === "docker-proxy" || exe === "containerd" || exe.startsWith("containerd-shim");
}

/** Seconds of CPU Docker's containers have used, from their parent cgroup; undefined when not found. */
export function containerSeconds(root = "/sys/fs/cgroup"): number | undefined {
    const v1 = `${root}/cpuacct/docker/cpuacct.usage`;
    if (fs.existsSync(v1)) return Number(fs.readFileSync(v1, "utf8").trim()) / 1e9;
    const v2 = `${root}/docker/cpu.stat`;
    if (fs.existsSync(v2)) {
        const usage = /^usage_usec (\d+)$/m.exec(fs.readFileSync(v2, "utf8"));
        if (usage) return Number(usage[1]) / 1e6;
    }
    return undefined;
}

function engineSeconds(): number {
    let sum = 0;
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
            if (isEngine(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8"))) sum += processSeconds(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
        } catch {
            // The process ended between the listing and the read.
        }
    }
    return sum;
}

export function cpuSnapshot(): CpuSnapshot {
    const self = process.cpuUsage();
    return { total: busySeconds(fs.readFileSync("/proc/stat", "utf8")), engine: engineSeconds(), containers: containerSeconds(), self: (self.user + self.system) / 1e6 };
}

/**
 * `cpu 41.2 s: containers 20.1, engine 8.3, the rest 12.8 (this process 4.0)` between two snapshots. A shim whose
 * container was removed between them takes its time with it, so the engine's share is a floor.
 */
export function cpuLine(before: CpuSnapshot, after: CpuSnapshot): string {
    const total = after.total - before.total;
    const engine = after.engine - before.engine;
    if (after.containers === undefined || before.containers === undefined) return `cpu ${total.toFixed(1)} s: engine ${engine.toFixed(1)}, containers not found`;
    const containers = after.containers - before.containers;
    const self = after.self !== undefined && before.self !== undefined ? ` (this process ${(after.self - before.self).toFixed(1)})` : "";
    return `cpu ${total.toFixed(1)} s: containers ${containers.toFixed(1)}, engine ${engine.toFixed(1)}, the rest ${(total - containers - engine).toFixed(1)}${self}`;
}
