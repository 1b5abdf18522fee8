/**
 * The fleet's seccomp profiles (002 P0.5, P2.11), passed inline to every container: the
 * provider hands `securityOpts` to the Engine API as they are, and the Engine takes the profile's
 * JSON there, not a file path.
 *
 * A custom profile replaces Docker's default one entirely, so a deny-list would be weaker than
 * running with no profile at all. This is an allow-list (default action: deny with EPERM): every
 * x86_64 system call the kernel headers list (syscalls-x86_64.txt, from linux-libc-dev) minus
 * the interfaces no Python service has business with. System calls newer than that list are
 * denied until the list is refreshed, which is what an allow-list is for.
 */
import * as fs from "fs";
import * as path from "path";

/** Kernel interfaces that would let a container reach past its namespace, cgroups or kernel. */
export const DENIED_SYSCALLS: Readonly<Record<string, string>> = {
    // Kernel modules, kexec, reboot, swap, accounting, clocks, quotas: host administration.
    init_module: "kernel modules", finit_module: "kernel modules", delete_module: "kernel modules", create_module: "kernel modules",
    kexec_load: "kexec", kexec_file_load: "kexec", reboot: "host reboot", swapon: "host swap", swapoff: "host swap", acct: "process accounting",
    settimeofday: "host clock", clock_settime: "host clock", clock_adjtime: "host clock", adjtimex: "host clock", stime: "host clock",
    quotactl: "disk quotas", quotactl_fd: "disk quotas", nfsservctl: "nfs server", syslog: "kernel log", sethostname: "UTS namespace", setdomainname: "UTS namespace",
    // Mounts and namespaces: the usual container escapes.
    mount: "mounts", umount2: "mounts", pivot_root: "mounts", chroot: "mounts", fsopen: "mounts", fsconfig: "mounts", fsmount: "mounts", fspick: "mounts",
    move_mount: "mounts", open_tree: "mounts", mount_setattr: "mounts", unshare: "namespaces", setns: "namespaces",
    // Tracing and other processes' memory.
    ptrace: "tracing", process_vm_readv: "other processes' memory", process_vm_writev: "other processes' memory", kcmp: "process comparison",
    perf_event_open: "perf events", bpf: "eBPF", userfaultfd: "userfaultfd (exploit primitive)", lookup_dcookie: "profiling",
    // Keyrings and file handles that bypass path checks.
    add_key: "kernel keyring", request_key: "kernel keyring", keyctl: "kernel keyring", open_by_handle_at: "file handles (shocker escape)", name_to_handle_at: "file handles",
    // Raw I/O ports and legacy interfaces.
    iopl: "raw I/O ports", ioperm: "raw I/O ports", vm86: "legacy", vm86old: "legacy", uselib: "legacy", ustat: "legacy", sysfs: "legacy", _sysctl: "legacy",
    get_kernel_syms: "legacy", query_module: "legacy", vhangup: "terminal hangup", personality: "execution domain (ASLR off)",
    fanotify_init: "filesystem-wide monitoring", io_uring_setup: "io_uring (frequent kernel CVEs)", io_uring_enter: "io_uring", io_uring_register: "io_uring",
};

/** clone() flags that create namespaces: CLONE_NEWNS, CLONE_NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const EPERM = 1;
const ENOSYS = 38;

interface Rule {
    names: string[];
    action: string;
    args?: { index: number; value: number; valueTwo?: number; op: string }[];
    errnoRet?: number;
}

export interface SeccompProfile {
    defaultAction: string;
    defaultErrnoRet: number;
    architectures: string[];
    syscalls: Rule[];
}

export function kernelSyscalls(): string[] {
    return fs.readFileSync(path.join(__dirname, "syscalls-x86_64.txt"), "utf8").split("\n").filter(Boolean);
}

/**
 * @param socketDomains when set, socket(2) is allowed only for these address families (the
 *   supervisor's profile: it talks TCP to the socket proxy and nothing else).
 */
function profile(socketDomains?: number[]): SeccompProfile {
    const special = new Set(["clone", "clone3", ...(socketDomains ? ["socket"] : [])]);
    const allowed = kernelSyscalls().filter((s) => !(s in DENIED_SYSCALLS) && !special.has(s)).sort();
    const rules: Rule[] = [
        { names: allowed, action: "SCMP_ACT_ALLOW" },
        // clone without namespace flags only; clone3 passes its flags in memory, which seccomp
        // cannot inspect, so it answers ENOSYS and glibc falls back to clone.
        { names: ["clone"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }] },
        { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS },
    ];
    for (const domain of socketDomains ?? []) {
        rules.push({ names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: domain, op: "SCMP_CMP_EQ" }] });
    }
    return { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: EPERM, architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], syscalls: rules };
}

/** Every container's profile (002 P2.11). */
export function baselineProfile(): SeccompProfile {
    return profile();
}

/** AF_UNIX, AF_INET, AF_INET6, AF_NETLINK (glibc's getaddrinfo asks netlink for addresses). */
export const SUPERVISOR_SOCKET_DOMAINS = [1, 2, 10, 16];

/** The self-healing supervisor's profile (002 P0.5): the baseline without raw or packet sockets. */
export function supervisorProfile(): SeccompProfile {
    return profile(SUPERVISOR_SOCKET_DOMAINS);
}

/** `seccomp=<json>` for securityOpts; compact, so the container diff stays one line. */
export function seccompOpt(p: SeccompProfile): string {
    return `seccomp=${JSON.stringify(p)}`;
}
