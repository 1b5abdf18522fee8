import * as assert from "assert";
import { familySpec, serviceSpec } from "../../fleet/model/images";
import { PROXY_DEFAULTS } from "../../fleet/model/defaults";
import { renderDockerApiProxy, renderFamily, renderService, renderServiceIgnore } from "../../fleet/render/dockerfile";
import { golden, realFleet } from "../helpers";

describe("Dockerfile rendering", () => {
    const d = realFleet();

    it("renders a root family (golden)", () => golden("base-python.Dockerfile", renderFamily(familySpec(d, "base-python", "cu121"))));
    it("renders a CUDA root family (golden)", () => golden("base-gpu-cu121.Dockerfile", renderFamily(familySpec(d, "base-gpu-cu121", "cu121"))));
    it("renders a child family (golden)", () => golden("family-llm-cu121.Dockerfile", renderFamily(familySpec(d, "family-llm-cu121", "cu121"))));
    it("renders a child family with a CUDA build pinned per track: torch's from the track's PyTorch index, by its local label (golden)", () => golden("family-torch-cu118.Dockerfile", renderFamily(familySpec(d, "family-torch-cu121", "cu118"))));
    it("renders a child family with NVIDIA library wheels of its own: LD_LIBRARY_PATH in its environment (golden)", () => golden("family-vision-cu121.Dockerfile", renderFamily(familySpec(d, "family-vision-cu121", "cu121"))));
    it("renders a CPU service (golden)", () => golden("service-registry.Dockerfile", renderService(serviceSpec(d, "ServiceRegistry"))));
    it("renders a GPU service (golden)", () => golden("model-ops-coordinator.Dockerfile", renderService(serviceSpec(d, "ModelOpsCoordinator"))));
    it("renders a legacy Python 3.10 service (golden)", () => golden("nlu-agent.Dockerfile", renderService(serviceSpec(d, "NLUAgent"))));
    it("renders the Docker API proxy: HAProxy at its pin, the config checked at build time, a HEALTHCHECK (golden)", () => golden("docker-api-proxy.Dockerfile", renderDockerApiProxy(PROXY_DEFAULTS)));
    it("renders a service's ignore file (golden)", () => golden("nlu-agent.Dockerfile.dockerignore", renderServiceIgnore(serviceSpec(d, "NLUAgent"))));

    const families = Object.keys(realFleet().families);
    const services = Object.keys(realFleet().services);

    it("every family: non-root runtime, tini as PID 1 at the roots, apt pinned with lists removed", () => {
        for (const f of families) {
            const text = renderFamily(familySpec(d, f, "cu121"));
            assert.match(text, /\nUSER 10001:10001\n/, f);
            assert.ok(text.trimEnd().split("\n").filter((l) => l.startsWith("USER ")).pop() === "USER 10001:10001", `${f} ends non-root`);
            if (!familySpec(d, f, "cu121").parent) {
                assert.match(text, /ENTRYPOINT \["\/usr\/bin\/tini", "--", "\/usr\/local\/bin\/fleet-entrypoint"\]/, f);
                assert.match(text, /PYTHONUNBUFFERED=1/, f);
                assert.match(text, /PYTHONDONTWRITEBYTECODE=1/, f);
                assert.match(text, /useradd --system --uid 10001 --gid 10001/, f);
            }
            for (const line of text.split("\n").filter((l) => l.includes("apt-get install"))) {
                assert.match(line, /--no-install-recommends( [a-z0-9.+-]+=[^ ]+)+ \\$/, `${f}: apt pinned`);
            }
            if (text.includes("apt-get install")) assert.match(text, /rm -rf \/var\/lib\/apt\/lists\/\*/, f);
            if (familySpec(d, f, "cu121").pip.length > 0) assert.match(text, /RUN --mount=type=cache,target=\/root\/\.cache\/pip/, f);
            assert.ok(!text.includes("# syntax="), `${f}: no frontend pulled from a registry`);
        }
    });

    it("one environment per image chain: only the roots create /opt/venv; no --target, no PYTHONPATH chaining, no /opt/layers", () => {
        const texts = [...families.map((f) => renderFamily(familySpec(d, f, "cu121"))), ...services.map((s) => renderService(serviceSpec(d, s)))];
        for (const text of texts) {
            assert.ok(!/--target|\/opt\/layers|--ignore-installed/.test(text), text.split("\n")[1]);
            for (const line of text.split("\n").filter((l) => l.includes("PYTHONPATH"))) assert.strictEqual(line.trim(), "PYTHONPATH=/app \\");
        }
        for (const f of families) {
            const spec = familySpec(d, f, "cu121");
            const text = renderFamily(spec);
            assert.strictEqual(text.includes("-m venv /opt/venv"), spec.parent === undefined, f);
            if (spec.parent && spec.pip.length > 0) {
                // The runtime layer installs from the wheelhouse only, which holds what the parents lack.
                assert.ok(text.includes(`--no-index --find-links /wheelhouse ${spec.pip.join(" ")}`), f);
                assert.ok(text.includes("pip install --dry-run --quiet --report /tmp/report.json"), f);
                assert.ok(!/COPY --from=builder/.test(text), `${f}: nothing of the builder is copied into a layer`);
            }
        }
    });

    it("a stack's package index replaces the data's indexes (PyPI and PyTorch's) in families and services", () => {
        const o = { packageIndex: "http://127.0.0.1:3141/simple/" };
        const torch = renderFamily(familySpec(d, "family-torch-cu121", "cu121", o));
        assert.ok(torch.includes("--index-url http://127.0.0.1:3141/simple/ torch==2.2.2+cu121 torchvision==0.17.2+cu121"), torch);
        assert.ok(!torch.includes("download.pytorch.org") && !torch.includes("pypi.org"));
        assert.ok(renderFamily(familySpec(d, "family-torch-cu121", "cu121")).includes("--index-url https://download.pytorch.org/whl/cu121 --extra-index-url https://pypi.org/simple"));
        assert.ok(renderService(serviceSpec(d, "Executor", o)).includes("--wheel-dir /wheelhouse --index-url http://127.0.0.1:3141/simple/ -r /wheelhouse/requirements.txt"));
    });

    it("every CUDA family sets TORCH_CUDA_ARCH_LIST for both hosts; no CPU family does", () => {
        for (const f of families) {
            const spec = familySpec(d, f, "cu121");
            const text = renderFamily(spec);
            if (!spec.parent && spec.cudaTrack) assert.match(text, /TORCH_CUDA_ARCH_LIST="8\.6;8\.9"/, f);
            if (!spec.cudaTrack) assert.ok(!text.includes("TORCH_CUDA_ARCH_LIST"), f);
        }
    });

    it("every service: multi-stage, hash-locked pip, layer order deps then code, HEALTHCHECK through the helper, non-root", () => {
        for (const s of services) {
            const spec = serviceSpec(d, s);
            const text = renderService(spec);
            assert.strictEqual((text.match(/^FROM /gm) ?? []).length, 2, s);
            assert.match(text, /\/opt\/venv\/bin\/pip wheel --no-deps --require-hashes --wheel-dir \/wheelhouse -r \/wheelhouse\/requirements\.txt;/, s);
            assert.match(text, /RUN --mount=type=bind,from=builder,source=\/wheelhouse,target=\/wheelhouse touch -d "1 second ago" \/dev\/shm\/fleet-layer \\\n    && if .*; then \/opt\/venv\/bin\/pip install --no-cache-dir --no-index --no-deps \/wheelhouse\/\*\.whl && \/opt\/venv\/bin\/pip check; fi \\\n    && find \//, s);
            // Every layer of the runtime stage sets what it wrote to SOURCE_DATE_EPOCH (fleet/render/layers.ts); no COPY keeps a time.
            const runtime = text.slice(text.indexOf("AS runtime"));
            assert.strictEqual((runtime.match(/^RUN /gm) ?? []).length, (runtime.match(/-newer \/dev\/shm\/fleet-layer -print0 \| xargs -0r touch -h -d "@\$\{SOURCE_DATE_EPOCH\}" \\\n    && touch -h -d "@\$\{SOURCE_DATE_EPOCH\}" \/etc/gm) ?? []).length, s);
            assert.ok(!/^COPY /m.test(runtime), `${s}: no COPY in the runtime stage`);
            // A mount of another stage holds files written moments ago, read-only: the marker (a second back) must not reach them.
            for (const run of runtime.split(/^RUN /m).slice(1)) {
                for (const target of [...run.matchAll(/--mount=[^ ]*target=([^, ]+)/g)].map((m) => m[1])) assert.ok(run.includes(`-o -path ${target} \\) -prune`), `${s}: ${target} pruned`);
                assert.ok(run.includes('touch -d "1 second ago" /dev/shm/fleet-layer'), `${s}: the marker a second back`);
            }
            assert.strictEqual((text.match(/^ARG SOURCE_DATE_EPOCH=0$/gm) ?? []).length, 2, `${s}: every stage declares SOURCE_DATE_EPOCH`);
            assert.ok(text.indexOf("/wheelhouse/requirements.txt") < text.indexOf(`COPY ${spec.sources[0]} `), `${s}: dependencies before code`);
            assert.match(text, new RegExp(`HEALTHCHECK --interval=30s --timeout=10s --start-period=\\d+s --start-interval=1s --retries=3 \\\\\\n    CMD \\["/usr/local/bin/fleet-health"\\]`), s);
            assert.match(text, new RegExp(`HEALTH_PORT=${d.services[s].ports.health}\\b`), s);
            assert.ok(!/curl/.test(text), `${s}: health does not hinge on curl`);
            assert.ok(text.trimEnd().endsWith("USER 10001:10001"), s);
            assert.strictEqual(/REQUIRED_GPU=true/.test(text), d.services[s].compute === "gpu", `${s}: REQUIRED_GPU exactly on GPU services`);
        }
    });

    it("the services 002 P0.4 lists as lacking a Dockerfile are generated like the rest", () => {
        for (const s of ["CrossMachineGPUScheduler", "StreamingTranslationProxy", "SpeechRelayService"]) {
            const spec = serviceSpec(d, s);
            assert.strictEqual(spec.dockerfileOverride, undefined);
            assert.match(renderService(spec), new RegExp(`FLEET_SERVICE=${s}`));
        }
    });

    it("an unhashed service says why in its Dockerfile and drops --require-hashes", () => {
        const f = realFleet();
        f.services.Executor.allowUnhashed = "vendor wheel published without hashes";
        const text = renderService(serviceSpec(f, "Executor"));
        assert.match(text, /# Installs WITHOUT hashes: vendor wheel published without hashes/);
        assert.ok(!text.includes("--require-hashes"));
    });

    it("copies one agent file from shared agent directories, the whole directory of a packaged service", () => {
        assert.deepStrictEqual(serviceSpec(d, "NLUAgent").sources, ["main_pc_code/agents/nlu_agent.py", "common"]);
        assert.deepStrictEqual(serviceSpec(d, "ModelOpsCoordinator").sources, ["model_ops_coordinator", "common"]);
        assert.deepStrictEqual(serviceSpec(d, "SpeechRelayService").sources, ["services/speech_relay", "common"]);
    });
});
