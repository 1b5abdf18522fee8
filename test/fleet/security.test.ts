import * as assert from "assert";
import { goDuration } from "../../fleet/model/duration";
import { baselineProfile, DENIED_SYSCALLS, kernelSyscalls, seccompOpt, supervisorProfile } from "../../fleet/security/seccomp";

describe("durations in the provider's canonical form", () => {
    const table: [number, string][] = [[0, "0s"], [10, "10s"], [30, "30s"], [60, "1m0s"], [90, "1m30s"], [120, "2m0s"], [300, "5m0s"], [3600, "1h0m0s"], [3725, "1h2m5s"]];
    for (const [s, expected] of table) it(`${s}s -> ${expected}`, () => assert.strictEqual(goDuration(s), expected));
    it("refuses fractions and negatives", () => {
        assert.throws(() => goDuration(1.5), /whole seconds/);
        assert.throws(() => goDuration(-1), /whole seconds/);
    });
});

describe("seccomp profiles", () => {
    const base = baselineProfile();
    const allowed = new Set(base.syscalls.filter((r) => r.action === "SCMP_ACT_ALLOW" && !r.args).flatMap((r) => r.names));

    it("denies by default (an allow-list, not a deny-list)", () => {
        assert.strictEqual(base.defaultAction, "SCMP_ACT_ERRNO");
        assert.strictEqual(base.defaultErrnoRet, 1);
    });

    it("allows what a Python service needs", () => {
        for (const s of ["read", "write", "openat", "mmap", "futex", "epoll_wait", "socket", "connect", "accept4", "execve", "rt_sigaction", "exit_group", "getrandom", "statx"]) {
            assert.ok(allowed.has(s), s);
        }
    });

    it("denies escapes and host administration, including every listed one the kernel has", () => {
        for (const s of ["mount", "unshare", "setns", "ptrace", "bpf", "kexec_load", "init_module", "open_by_handle_at", "keyctl", "userfaultfd", "reboot", "io_uring_setup"]) {
            assert.ok(!allowed.has(s), s);
        }
        const kernel = new Set(kernelSyscalls());
        for (const s of Object.keys(DENIED_SYSCALLS)) assert.ok(!allowed.has(s), s);
        assert.ok(kernel.size > 300);
    });

    it("allows clone only without namespace flags, and makes clone3 fall back", () => {
        const clone = base.syscalls.find((r) => r.names.includes("clone") && r.action === "SCMP_ACT_ALLOW")!;
        assert.deepStrictEqual(clone.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }]);
        assert.deepStrictEqual(base.syscalls.find((r) => r.names.includes("clone3")), { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 });
    });

    it("the supervisor's profile allows sockets only of the unix, inet, inet6 and netlink families", () => {
        const sup = supervisorProfile();
        const socketRules = sup.syscalls.filter((r) => r.names.includes("socket"));
        assert.deepStrictEqual(socketRules.map((r) => r.args![0].value), [1, 2, 10, 16]);
        assert.ok(!sup.syscalls.some((r) => r.names.includes("socket") && !r.args));
    });

    it("goes inline into securityOpts as compact JSON", () => {
        const opt = seccompOpt(base);
        assert.ok(opt.startsWith('seccomp={"defaultAction":"SCMP_ACT_ERRNO"'));
        assert.ok(!opt.includes("\n"));
        assert.deepStrictEqual(JSON.parse(opt.slice("seccomp=".length)), base);
    });
});
