/** bench/cpu.ts: the readings of Linux's counters the benchmark splits a run's CPU time by. */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { busySeconds, containerSeconds, cpuLine, isEngine, processSeconds } from "../bench/cpu";

describe("bench/cpu", () => {
    it("busySeconds: /proc/stat's cpu line without idle and iowait, in 100ths of a second", () => {
        const stat = "cpu  1000 50 400 90000 700 30 20 5 0 0\ncpu0 500 25 200 45000 350 15 10 2 0 0\nintr 1 2 3\n";
        assert.strictEqual(busySeconds(stat), (1000 + 50 + 400 + 30 + 20 + 5) / 100);
        assert.throws(() => busySeconds("intr 1\n"), /^Error: \/proc\/stat: no `cpu` line$/);
    });

    it("processSeconds: utime, stime, cutime and cstime (fields 14 to 17), counted from the last `)` of a comm that holds spaces and parentheses", () => {
        const fields = ["S", "1", "2", "3", "0", "-1", "4194560", "10", "0", "0", "0", "250", "120", "30", "7", "20", "0"];
        assert.strictEqual(processSeconds(`4242 (containerd-shim) ${fields.join(" ")}`), 4.07);
        assert.strictEqual(processSeconds(`77 (a (b) c) ${fields.join(" ")}`), 4.07);
    });

    it("isEngine: dockerd, docker-proxy, containerd and its shims by their executable; not the docker CLI, compose or a container's process", () => {
        const rows: [string, boolean][] = [
            ["/usr/sbin/dockerd\0-H\0unix:///var/run/docker.sock\0", true],
            ["/usr/sbin/docker-proxy\0-proto\0tcp\0", true],
            ["containerd\0--config\0/var/run/docker/containerd/containerd.toml\0", true],
            ["/usr/bin/containerd-shim-runc-v2\0-namespace\0moby\0", true],
            ["docker\0ps\0", false],
            ["/usr/libexec/docker/cli-plugins/docker-compose\0compose\0up\0", false],
            ["python3\0-m\0http.server\0", false],
            ["", false],
        ];
        for (const [cmdline, want] of rows) assert.strictEqual(isEngine(cmdline), want, JSON.stringify(cmdline));
    });

    it("containerSeconds: cgroup v1's cpuacct.usage (ns), else v2's usage_usec, else undefined", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cgroup-"));
        try {
            assert.strictEqual(containerSeconds(root), undefined);
            fs.mkdirSync(path.join(root, "docker"));
            fs.writeFileSync(path.join(root, "docker", "cpu.stat"), "usage_usec 2500000\nuser_usec 2000000\n");
            assert.strictEqual(containerSeconds(root), 2.5);
            fs.mkdirSync(path.join(root, "cpuacct", "docker"), { recursive: true });
            fs.writeFileSync(path.join(root, "cpuacct", "docker", "cpuacct.usage"), "7250000000\n");
            assert.strictEqual(containerSeconds(root), 7.25);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("cpuLine: the deltas, the rest being what neither the containers nor the engine used", () => {
        assert.strictEqual(cpuLine({ total: 100, engine: 10, containers: 50 }, { total: 141.2, engine: 18.3, containers: 70.1 }), "cpu 41.2 s: containers 20.1, engine 8.3, the rest 12.8");
        assert.strictEqual(cpuLine({ total: 100, engine: 10 }, { total: 110, engine: 12 }), "cpu 10.0 s: engine 2.0, containers not found");
        // The rest's share of this process (the harness), beside its children's.
        assert.strictEqual(cpuLine({ total: 100, engine: 10, containers: 50, self: 3 }, { total: 141.2, engine: 18.3, containers: 70.1, self: 7.5 }), "cpu 41.2 s: containers 20.1, engine 8.3, the rest 12.8 (this process 4.5)");
    });
});
