/** Stand-in machines for the shell scripts' tests. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * A directory to put on PATH in place of /usr/bin and /bin: links to every command there but
 * `hidden`, so a script sees this machine as if those were not installed.
 */
export function systemWithout(hidden: readonly string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-system-"));
    for (const from of ["/usr/bin", "/bin"]) {
        for (const name of fs.readdirSync(from)) {
            const to = path.join(dir, name);
            if (!hidden.includes(name) && !fs.existsSync(to)) fs.symlinkSync(path.join(from, name), to);
        }
    }
    return dir;
}

/** An os-release file (FLEET_OS_RELEASE) of the system named. */
export const OS_RELEASE: Record<string, string> = {
    debian12: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    debian11: 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\nID=debian\n',
    fedora: 'NAME="Fedora Linux"\nVERSION_ID=40\nID=fedora\nPRETTY_NAME="Fedora Linux 40 (Workstation Edition)"\n',
};
