/**
 * A row per message of `check-stack` and `validate` (issue 17): the input that provokes it, the
 * exact message and the exact fix, as the operator reads them, `pulumi config` commands
 * included. check-stack rows run on a copy of the project whose mainpc and pc2 stacks have the
 * runbook's address (its first step), against the fixture application.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli } from "../../fleet/cli";
import { FIXTURE_APP, realFleetTexts, writeFleetDir } from "../helpers";
import { PROJECT_DIR, RUNBOOK_CONFIG } from "../mocks";

type Edit = (text: string) => string;
interface Row {
    what: string;
    /** `check-stack <stack>`, or `validate` when absent. */
    stack?: string;
    /** Edits of the project's Pulumi files (after the runbook's address is set). */
    files?: Record<string, Edit>;
    /** Edits of fleet/data's files. */
    data?: Record<string, Edit>;
    /** Changes to a copy of the fixture application. */
    app?: (dir: string) => void;
    expected: string[];
}

const add = (lines: string): Edit => (t) => `${t}${lines}`;

function project(edits: Record<string, Edit>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-check-table-"));
    for (const f of fs.readdirSync(PROJECT_DIR).filter((n) => /^Pulumi(\.[^.]+)?\.yaml$/.test(n))) {
        const stack = f.split(".")[1];
        const runbook = Object.entries(RUNBOOK_CONFIG[stack] ?? {}).map(([k, v]) => `  ${k}: ${v}\n`).join("");
        const text = fs.readFileSync(path.join(PROJECT_DIR, f), "utf8") + runbook;
        fs.writeFileSync(path.join(dir, f), (edits[f] ?? ((t: string) => t))(text));
    }
    return dir;
}

function outcome(row: Row): string[] {
    const data = row.data ? writeFleetDir(Object.fromEntries(Object.entries(realFleetTexts()).map(([f, t]) => [f, (row.data![f] ?? ((x: string) => x))(t)]))) : undefined;
    const app = row.app ? fs.mkdtempSync(path.join(os.tmpdir(), "fleet-check-app-")) : FIXTURE_APP;
    if (row.app) {
        fs.cpSync(FIXTURE_APP, app, { recursive: true });
        row.app(app);
    }
    const argv = row.stack ? ["check-stack", row.stack, "--app-repo", app] : ["validate"];
    const err: string[] = [];
    const code = runCli([...argv, ...(data ? ["--fleet", data] : [])], { out: () => undefined, err: (l) => err.push(l) }, project(row.files ?? {}));
    assert.strictEqual(code, 1, "expected problems");
    const lines = err.join("\n").split("\n").slice(1).map((l) => l.replace(/^ {2}- /, ""));
    return lines.map((l) => l.split(`${app}/`).join("<app>/").split(app).join("<app>").split(data ? `${data}/` : "\0").join(""));
}

const rows: Row[] = [
    // The YAML and the CLI's own rules.
    {
        what: "a key indented deeper than the one before (the issue's 'one line early, as quote the value')",
        stack: "pc2", files: { "Pulumi.pc2.yaml": (t) => t.replace("  fleet:org:", "    fleet:org:") },
        expected: ["Pulumi.pc2.yaml: line 6, column 5: not valid YAML: `fleet:org` is indented 4 spaces, deeper than line 5 (2 spaces), so it is read as more of line 5's value, and a plain value cannot hold ': ' (yaml.v3: \"line 6: mapping values are not allowed in this context\"). Fix: indent line 6 by 2 spaces, as line 5, if `fleet:org` is a key of the same mapping; if it belongs to line 5's value, quote that value"],
    },
    {
        what: "one pin of the wrong type (issue 27): the CLI's words with the entry named, and the other pins still checked",
        stack: "pc2", files: { "Pulumi.pc2.yaml": add("  fleet:pins:\n    - CacheManager\n    - CacheManagr=v1\n    - 42\n") },
        expected: [
            "Pulumi.pc2.yaml: line 15: fleet:pins[2]: Stack 'pc2' with configuration key 'pins' must be of type 'array<string>': fleet:pins[2] is 42. Fix: pulumi config set --path 'fleet:pins[2]' <string> --stack pc2",
            "Pulumi.pc2.yaml: fleet:pins[0]: 'CacheManager' must be Service=<tag> or Service=sha256:<digest>. Fix: correct the value's format: pulumi config set --path 'fleet:pins[0]' <string> --stack pc2",
            "Pulumi.pc2.yaml: fleet:pins[1]: 'CacheManagr' is not a service of the fleet; the closest is CacheManager. Fix: write CacheManager=v1: pulumi config set --path 'fleet:pins[1]' CacheManager=v1 --stack pc2",
        ],
    },
    {
        what: "a key moved to column 0 (issue 27): the moved line named, not the next one, with a fix that puts it back",
        stack: "pc2", files: { "Pulumi.pc2.yaml": (t) => t.replace("  fleet:org:", "fleet:org:") },
        expected: ["Pulumi.pc2.yaml: line 6, column 1: not valid YAML: line 6 (`fleet:org`) is indented 0 spaces, less than lines 5 and 7 around it (2 spaces), so it ends the mapping above it and line 7's `fleet:portOffset` is read as more of its value (yaml.v3: \"line 7: mapping values are not allowed in this context\"). Fix: indent line 6 by 2 spaces, as lines 5 and 7"],
    },
    {
        what: "a misspelt key: the CLI's missing key, and the closest key with the value kept",
        stack: "pc2", files: { "Pulumi.pc2.yaml": (t) => t.replace("fleet:portOffset: 0", "fleet:portOfset: 1") },
        expected: [
            "Pulumi.pc2.yaml: fleet:portOffset: Stack 'pc2' is missing configuration value 'portOffset'. Fix: pulumi config set fleet:portOffset <integer> --stack pc2",
            "Pulumi.pc2.yaml: fleet:portOfset: is not a key of the fleet: config; the closest is fleet:portOffset. Fix: rename it to fleet:portOffset: pulumi config rm fleet:portOfset --stack pc2 && pulumi config set fleet:portOffset 1 --stack pc2",
        ],
    },
    {
        what: "a key like no other",
        stack: "local", files: { "Pulumi.local.yaml": add("  fleet:colour: blue\n") },
        expected: ["Pulumi.local.yaml: fleet:colour: is not a key of the fleet: config. Fix: remove it (README, Stack config, lists the keys): pulumi config rm fleet:colour --stack local"],
    },
    {
        what: "a value of the wrong type for an undeclared key",
        stack: "local", files: { "Pulumi.local.yaml": (t) => `${t.trimEnd()}\n  fleet:startLanes: 0\n` },
        expected: ["Pulumi.local.yaml: fleet:startLanes: 0 is below the minimum 1. Fix: use a value of at least 1: pulumi config set fleet:startLanes <integer> --stack local"],
    },
    {
        what: "a plaintext registry credential, and its missing partner",
        stack: "mainpc", files: { "Pulumi.mainpc.yaml": add("  fleet:registryUsername: bot\n") },
        expected: [
            "Pulumi.mainpc.yaml: line 15: fleet:registryUsername: is plaintext: a registry credential is a secret. Fix: set it encrypted (the CLI replaces the plaintext line): pulumi config set --secret fleet:registryUsername <value> --stack mainpc",
            "Pulumi.mainpc.yaml: fleet:registryPassword: is missing: fleet:registryUsername is set, and a registry login needs both. Fix: pulumi config set --secret fleet:registryPassword <value> --stack mainpc",
        ],
    },
    // The program's checks of the fleet: keys.
    {
        what: "pins: a service the host does not run, a misspelt one, a bad reference and a second pin (removals highest index first)",
        stack: "pc2", files: { "Pulumi.pc2.yaml": add("  fleet:pins:\n    - NLUAgent=v1\n    - CacheManagr=v1\n    - CacheManager=sha256:xyz\n    - CacheManager=v2\n") },
        expected: [
            "Pulumi.pc2.yaml: fleet:pins[3]: 'CacheManager' is pinned twice. Fix: keep one pin per service: pulumi config rm --path 'fleet:pins[3]' --stack pc2",
            "Pulumi.pc2.yaml: fleet:pins[1]: 'CacheManagr' is not a service of the fleet; the closest is CacheManager. Fix: write CacheManager=v1: pulumi config set --path 'fleet:pins[1]' CacheManager=v1 --stack pc2",
            "Pulumi.pc2.yaml: fleet:pins[2]: 'sha256:xyz' is neither an image tag nor sha256:<64 hex>. Fix: pin a tag from `pulumi stack output services` or the registry, or the image's digest: pulumi config set --path 'fleet:pins[2]' CacheManager=<tag> --stack pc2",
            "Pulumi.pc2.yaml: fleet:pins[0]: 'NLUAgent' is not placed on pc2, so nothing runs the pinned image. Fix: remove the pin: pulumi config rm --path 'fleet:pins[0]' --stack pc2",
        ],
    },
    {
        what: "service switches: a name like none, one of another host, one in both lists",
        stack: "mainpc", files: { "Pulumi.mainpc.yaml": add("  fleet:enableServices: [Zzz, CacheManager, Executor]\n  fleet:disableServices: [Executor]\n") },
        expected: [
            "Pulumi.mainpc.yaml: fleet:enableServices[0]: 'Zzz' is not a service of the fleet. Fix: correct the name (names are case-sensitive, as in services.yaml): pulumi config set --path 'fleet:enableServices[0]' <service> --stack mainpc",
            "Pulumi.mainpc.yaml: fleet:enableServices[2]: 'Executor' is also in disableServices. Fix: keep the service in one of the two lists: pulumi config rm --path 'fleet:enableServices[2]' --stack mainpc; or remove it from fleet:disableServices[0]",
            "Pulumi.mainpc.yaml: fleet:enableServices[1]: 'CacheManager' is not placed on mainpc (it runs on pc2). Fix: remove the entry: pulumi config rm --path 'fleet:enableServices[1]' --stack mainpc; or add mainpc to CacheManager.hosts in services.yaml",
        ],
    },
    {
        what: "a GPU service asked for by name where the stack turns GPUs off",
        stack: "local", files: { "Pulumi.local.yaml": add("  fleet:enableServices: [ModelOpsCoordinator]\n  fleet:pins: [STTService=v1]\n") },
        expected: [
            "Pulumi.local.yaml: fleet:enableServices[0]: 'ModelOpsCoordinator' is enabled by name, but it needs a GPU (compute: gpu), and this stack sets fleet:gpu false. Fix: remove the entry: pulumi config rm --path 'fleet:enableServices[0]' --stack local; or set fleet:gpu true where the host's NVIDIA runtime works",
            "Pulumi.local.yaml: fleet:pins[0]: 'STTService' is pinned, but it needs a GPU (compute: gpu), and this stack sets fleet:gpu false. Fix: remove the pin: pulumi config rm --path 'fleet:pins[0]' --stack local; or set fleet:gpu true where the host's NVIDIA runtime works",
        ],
    },
    {
        what: "a CUDA track the torch families cannot build, and an offset past the last port",
        stack: "pc2", files: { "Pulumi.pc2.yaml": (t) => t.replace("fleet:portOffset: 0", "fleet:portOffset: 60000") + "  fleet:cudaTrack: cu124\n" },
        expected: [
            "Pulumi.pc2.yaml: fleet:cudaTrack: 'cu124' cannot build family-torch-cu121 (it supports cu118, cu121), which RealTimeAudioPipelinePC2, SpeechRelayService use. Fix: use one of cu118, cu121: pulumi config set fleet:cudaTrack cu121 --stack pc2",
            "Pulumi.pc2.yaml: fleet:portOffset: 60000 moves UnifiedObservabilityCenter's port 9110 to 69110, above 65535. Fix: use at most 56425: pulumi config set fleet:portOffset 56425 --stack pc2",
        ],
    },
    {
        what: "a host that uses another's services without a peer stack",
        stack: "pc2", files: { "Pulumi.pc2.yaml": (t) => t.replace("  fleet:peerStack: ai-system/fleet/mainpc\n", "") },
        expected: ["Pulumi.pc2.yaml: fleet:peerStack: is missing: pc2 uses services of mainpc. Fix: set it to the stack that deploys them, ai-system/fleet/mainpc: pulumi config set fleet:peerStack ai-system/fleet/mainpc --stack pc2"],
    },
    {
        what: "an address that binds every interface",
        stack: "pc2", files: { "Pulumi.pc2.yaml": (t) => t.replace("fleet:advertiseAddress: 192.0.2.17", "fleet:advertiseAddress: 0.0.0.0") },
        expected: ["Pulumi.pc2.yaml: fleet:advertiseAddress: '0.0.0.0' binds every interface of the host (CIS Docker 5.14). Fix: set it to the one IP address other hosts reach pc2 at: pulumi config set fleet:advertiseAddress <IP address of pc2> --stack pc2"],
    },
    {
        what: "a rollback to a build lock that is not there",
        stack: "pc2", files: { "Pulumi.pc2.yaml": add("  fleet:pinAll: build-lock-pc2.json\n") },
        expected: ["Pulumi.pc2.yaml: fleet:pinAll: build-lock-pc2.json does not exist (a relative path starts at the project directory). Fix: download the build-lock-pc2 artifact of the deploy to roll back to, or give its path: pulumi config set fleet:pinAll <path of build-lock-pc2.json> --stack pc2"],
    },
    // The application repository, as buildPlan checks it before any resource.
    {
        what: "a missing entrypoint (and so its source), and a missing lock whose input is there",
        stack: "pc2", app: (a) => ["pc2_code/agents/task_scheduler.py", "requirements/cache-manager.txt"].forEach((f) => fs.rmSync(path.join(a, f))),
        expected: [
            "services.yaml: CacheManager.requirements: <app>/requirements/cache-manager.txt does not exist in the application repository (its input requirements/cache-manager.in does). Fix: lock it: FLEET_LOCK_IMAGES=ghcr.io/ai-system FLEET_LOCK_ONLY=CacheManager scripts/lock-requirements.sh <app>, and commit it",
            "services.yaml: TaskScheduler.entrypoint: <app>/pc2_code/agents/task_scheduler.py does not exist in the application repository. Fix: correct the entrypoint path",
            "services.yaml: TaskScheduler.sources[0]: <app>/pc2_code/agents/task_scheduler.py does not exist in the application repository. Fix: correct the path, or set `sources` for this service",
        ].map((l) => `fleet/data/${l}`),
    },
    // Cross-stack rules, both ways.
    {
        what: "the issue's example seen from mainpc: disabling services pc2 uses",
        stack: "mainpc", files: { "Pulumi.mainpc.yaml": add("  fleet:disableServices: [ServiceRegistry, ModelOpsCoordinator]\n") },
        expected: [1, 0].map((j) => {
            const [svc, i] = j === 0 ? ["ServiceRegistry", 0] : ["ModelOpsCoordinator", 2];
            return `Pulumi.mainpc.yaml: fleet:disableServices[${j}]: lists ${svc}, but pc2 uses ${svc} from this stack (fleet/data/hosts.yaml: pc2.uses.mainpc[${i}]; Pulumi.pc2.yaml: fleet:peerStack). Fix: remove the entry: pulumi config rm --path 'fleet:disableServices[${j}]' --stack mainpc; or remove ${svc} from pc2.uses.mainpc in fleet/data/hosts.yaml`;
        }),
    },
    {
        what: "the issue's example seen from pc2: its peer does not run what it uses",
        stack: "pc2", files: { "Pulumi.mainpc.yaml": add("  fleet:disableServices: [ModelOpsCoordinator]\n") },
        expected: ["Pulumi.pc2.yaml: fleet:peerStack: 'ai-system/fleet/mainpc' does not run ModelOpsCoordinator, which pc2 uses (fleet/data/hosts.yaml: pc2.uses.mainpc[2]): Pulumi.mainpc.yaml: fleet:disableServices[0] lists ModelOpsCoordinator. Fix: in Pulumi.mainpc.yaml, fleet:disableServices[0]: remove the entry: pulumi config rm --path 'fleet:disableServices[0]' --stack mainpc; or remove ModelOpsCoordinator from pc2.uses.mainpc in fleet/data/hosts.yaml"],
    },
    {
        what: "GPUs turned off on the peer, under a GPU service pc2 uses",
        stack: "mainpc", files: { "Pulumi.mainpc.yaml": add("  fleet:gpu: false\n") },
        expected: ["Pulumi.mainpc.yaml: fleet:gpu: is false, and ModelOpsCoordinator needs a GPU (compute: gpu), but pc2 uses ModelOpsCoordinator from this stack (fleet/data/hosts.yaml: pc2.uses.mainpc[2]; Pulumi.pc2.yaml: fleet:peerStack). Fix: remove it: the host has a GPU: pulumi config rm fleet:gpu --stack mainpc; or remove ModelOpsCoordinator from pc2.uses.mainpc in fleet/data/hosts.yaml"],
    },
    {
        what: "a used service gated off, and one services.yaml disables",
        stack: "mainpc", data: { "hosts.yaml": (t) => t.replace("SystemDigitalTwin, ModelOpsCoordinator]", "SystemDigitalTwin, ModelOpsCoordinator, WakeWordDetector, ObservabilityDashboardAPI]") },
        expected: [
            "Pulumi.mainpc.yaml: fleet:rtapEnabled: is true, and RealTimeAudioPipeline replaces WakeWordDetector (gatedBy: rtap, 002 P0.3), but pc2 uses WakeWordDetector from this stack (hosts.yaml: pc2.uses.mainpc[3]; Pulumi.pc2.yaml: fleet:peerStack). Fix: set it to false: pulumi config set fleet:rtapEnabled false --stack mainpc; or remove WakeWordDetector from pc2.uses.mainpc in hosts.yaml",
            "Pulumi.mainpc.yaml: fleet:enableServices: does not name ObservabilityDashboardAPI, which services.yaml disables (duplicates UnifiedObservabilityCenter's metrics UI (002 P0.2); UOC is kept), but pc2 uses ObservabilityDashboardAPI from this stack (hosts.yaml: pc2.uses.mainpc[4]; Pulumi.pc2.yaml: fleet:peerStack). Fix: add ObservabilityDashboardAPI to it: pulumi config set --path 'fleet:enableServices[0]' ObservabilityDashboardAPI --stack mainpc; or remove ObservabilityDashboardAPI from pc2.uses.mainpc in hosts.yaml",
        ],
    },
    {
        what: "a peer stack without a file here",
        stack: "pc2", files: { "Pulumi.pc2.yaml": (t) => t.replace("ai-system/fleet/mainpc", "ai-system/fleet/mainpc2") },
        expected: ["Pulumi.pc2.yaml: fleet:peerStack: 'ai-system/fleet/mainpc2' names stack 'mainpc2', which has no Pulumi.mainpc2.yaml here (stacks: local, mainpc, pc2). Fix: name the stack of this project that deploys mainpc: pulumi config set fleet:peerStack ai-system/fleet/mainpc --stack pc2"],
    },
    {
        what: "a peer stack of another project",
        stack: "pc2", files: { "Pulumi.pc2.yaml": (t) => t.replace("ai-system/fleet/mainpc", "ai-system/models/mainpc") },
        expected: ["Pulumi.pc2.yaml: fleet:peerStack: 'ai-system/models/mainpc' names a stack of project 'models', whose config is not in this project ('fleet'). Fix: name the stack of this project that deploys mainpc: pulumi config set fleet:peerStack ai-system/fleet/mainpc --stack pc2"],
    },
    {
        what: "a peer whose config cannot say what it runs",
        stack: "pc2", files: { "Pulumi.mainpc.yaml": add("  fleet:rtapEnabled: maybe\n") },
        expected: ["Pulumi.pc2.yaml: fleet:peerStack: what Pulumi.mainpc.yaml runs cannot be told: its config has problems. Fix: scripts/fleet check-stack mainpc lists them"],
    },
    {
        what: "a peer stack that deploys another host",
        stack: "pc2", files: { "Pulumi.pc2.yaml": (t) => t.replace("ai-system/fleet/mainpc", "ai-system/fleet/pc2") },
        expected: ["Pulumi.pc2.yaml: fleet:peerStack: 'ai-system/fleet/pc2' deploys pc2 (Pulumi.pc2.yaml: fleet:machine), but pc2 uses services of mainpc. Fix: name the stack of this project that deploys mainpc: pulumi config set fleet:peerStack ai-system/fleet/mainpc --stack pc2"],
    },
    // validate: the data.
    {
        what: "a misspelt data key, with the closest key",
        data: { "services.yaml": (t) => t.replace("    family: legacy-py310-cpu\n    ports: { service: 5709", "    famly: legacy-py310-cpu\n    ports: { service: 5709") },
        expected: ["services.yaml: NLUAgent.family: is missing (string expected). Fix: add it", "services.yaml: NLUAgent.famly: is not a known key. Fix: rename it to family, or remove it"],
    },
    {
        what: "a GPU host's profile without its GPU keys",
        data: { "hosts.yaml": (t) => t.replace('      GPU_VISIBLE_DEVICES: "0"\n      TORCH_CUDA_ALLOC_CONF: "max_split_size_mb:32"\n', "") },
        expected: [
            "hosts.yaml: pc2.profile.GPU_VISIBLE_DEVICES: is missing: host 'pc2' has a GPU (pc2.gpu). Fix: add the GPU's index, e.g. GPU_VISIBLE_DEVICES: \"0\"; or, for a host without a GPU, leave out pc2.gpu",
            "hosts.yaml: pc2.profile.TORCH_CUDA_ALLOC_CONF: is missing: host 'pc2' has a GPU (pc2.gpu). Fix: add it, e.g. TORCH_CUDA_ALLOC_CONF: \"max_split_size_mb:64\"; or, for a host without a GPU, leave out pc2.gpu",
        ],
    },
];

describe("check-stack and validate: a row per message, with its exact fix", () => {
    for (const row of rows) {
        it(row.what, () => {
            assert.deepStrictEqual(outcome(row), row.expected);
        });
    }
});
