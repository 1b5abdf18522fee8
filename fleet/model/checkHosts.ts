/** Cross-checks of hosts.yaml: what a host uses of another host's services. */
import { FleetIssue } from "./issues";
import { Rule } from "./rules";

/**
 * A host's `uses` names services placed on the other host. A service that exists but is placed
 * elsewhere is reported on services.yaml, where the move was made, naming the consumer; a name
 * services.yaml does not know is reported on the `uses` entry.
 */
export const hostUses: Rule = (d, f, broken) => {
    const out: FleetIssue[] = [];
    for (const [h, host] of Object.entries(d.hosts)) {
        for (const [peer, services] of Object.entries(host.uses)) {
            if (broken.hosts(peer)) continue;
            if (peer === h || !(peer in d.hosts)) {
                out.push({ file: f.hosts, path: `${h}.uses.${peer}`, message: peer === h ? "a host cannot use itself" : `'${peer}' is not a host in this file`, fix: `use one of ${Object.keys(d.hosts).filter((x) => x !== h).join(", ")}` });
                continue;
            }
            for (const [i, name] of services.entries()) {
                const svc = d.services[name];
                if (!svc && broken.services(name)) continue;
                if (!svc) {
                    out.push({ file: f.hosts, path: `${h}.uses.${peer}[${i}]`, message: `'${name}' is not a service of ${f.services}`, fix: `name a service of ${f.services} that runs on ${peer} (names are case-sensitive)` });
                } else if (!svc.hosts.includes(peer)) {
                    out.push({ file: f.services, path: `${name}.hosts`, message: `does not include ${peer}, where ${h} uses ${name} (${f.hosts}: ${h}.uses.${peer}[${i}])`, fix: `add ${peer} to ${name}.hosts, or remove ${name} from ${h}.uses.${peer} in ${f.hosts}` });
                }
            }
        }
    }
    return out;
};
