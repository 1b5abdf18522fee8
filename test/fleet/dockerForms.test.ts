/**
 * `cpus` in the form the Docker provider reads back (fleet/model/dockerForms.ts), with the
 * provider's own examples (kreuzwerker v4.5.0 internal/provider/helpers_test.go
 * TestNanoInt64ToDecimalString) and the cases its algorithm gets wrong.
 */
import * as assert from "assert";
import { cpusInput, cpusReadBack, nanoCpusString, parseCpus } from "../../fleet/model/dockerForms";
import { formatIssue } from "../../fleet/model/issues";
import { validate } from "../../fleet/model/parse";
import { RuntimeSchema } from "../../fleet/model/schema";

describe("the Docker provider's cpus form", () => {
    it("nanoInt64ToDecimalString, the provider's examples and more", () => {
        const rows: [bigint, string][] = [
            [0n, "0"], [1_000_000_000n, "1.0"], [1_500_000_000n, "1.5"], [2_000_000_000n, "2.0"], [2_250_000_000n, "2.25"],
            // Ten has ten '0' characters at FloatString(9), so it is trimmed, not rounded to one place.
            [10_000_000_000n, "10."], [20_000_000_000n, "20."], [500_000_000n, "0.5"], [10_500_000_000n, "10.5"],
            // Exactly nine '0's: rounded to one place, another value.
            [50_000_000n, "0.1"], [10_000_000n, "0.0"], [1_050_000_000n, "1.05"],
        ];
        assert.deepStrictEqual(rows.map(([n]) => nanoCpusString(n)), rows.map(([, s]) => s));
    });

    it("parses as docker/cli opts.ParseCPUs: a decimal that is whole in nanoseconds", () => {
        assert.deepStrictEqual(["1", "1.0", "10.", "0.5", "2.25", "0.000000001"].map(parseCpus), [1_000_000_000n, 1_000_000_000n, 10_000_000_000n, 500_000_000n, 2_250_000_000n, 1n]);
        assert.deepStrictEqual(["", ".", "1e3", "-1", "0.0000000001", "one"].map(parseCpus), [undefined, undefined, undefined, undefined, undefined, undefined]);
    });

    it("the program's inputs are the read-back form, and a limit the provider cannot keep is refused", () => {
        assert.deepStrictEqual([1, 2, 4, 6, 0.5, 1.5, 10, 0.25].map(cpusInput), ["1.0", "2.0", "4.0", "6.0", "0.5", "1.5", "10.", "0.25"]);
        assert.throws(() => cpusInput(0.05), /^Error: a CPU limit of 0\.05 reads back from the Docker provider as "0\.1", another limit$/);
        assert.deepStrictEqual([cpusReadBack(0.05), cpusReadBack(0.01), cpusReadBack(1.05)], [{ ok: false, form: "0.1" }, { ok: false, form: "0.0" }, { ok: true, form: "1.05" }]);
    });

    it("families.yaml refuses a CPU limit the provider cannot keep, naming the form it would keep", () => {
        const r = validate(RuntimeSchema, { cpus: 0.05 }, "fleet/data/families.yaml", undefined, "family-x.runtime.");
        assert.deepStrictEqual(r.ok ? [] : r.issues.map(formatIssue), [
            'fleet/data/families.yaml: family-x.runtime.cpus: 0.05: is kept by the Docker provider as "0.1", another limit, so every deploy would replace the container. Fix: correct the value',
        ]);
        assert.ok(validate(RuntimeSchema, { cpus: 1.05 }, "f").ok);
    });
});
