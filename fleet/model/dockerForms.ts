/**
 * Values in the form the Docker provider keeps them in its state. @pulumi/docker 5.2.0 bridges
 * kreuzwerker/terraform-provider-docker v4.5.0 (pulumi-docker's `upstream` submodule at 5074970c,
 * the newest readable pulumi-docker commit after v5.1.0). Its container Read stores what it reads
 * back from the engine, and Create ends with that Read, so an input spelled another way differs
 * from the state on every later `pulumi up` and `pulumi preview`. Where the field is ForceNew, the
 * container is replaced every time.
 */

const NANO = 1_000_000_000n;

/**
 * `cpus` as the provider's Read stores it: `nanoInt64ToDecimalString(HostConfig.NanoCPUs)`
 * (internal/provider/helpers.go): big.Rat(n, 1e9).FloatString(9); when that string holds exactly
 * nine '0' characters, FloatString(1) instead (rounded half away from zero); otherwise trailing
 * zeros trimmed. So 1e9 -> "1.0", 1.5e9 -> "1.5", 2.25e9 -> "2.25", 1e10 -> "10." and 0 -> "0".
 */
export function nanoCpusString(nano: bigint): string {
    if (nano === 0n) return "0";
    const nine = `${nano / NANO}.${(nano % NANO).toString().padStart(9, "0")}`;
    if ((nine.match(/0/g) ?? []).length === 9) {
        const tenths = (nano * 10n + NANO / 2n) / NANO;
        return `${tenths / 10n}.${tenths % 10n}`;
    }
    return nine.replace(/0+$/, "");
}

/**
 * NanoCPUs of a `cpus` string as the provider's Create parses it (docker/cli opts.ParseCPUs:
 * a big.Rat times 1e9 that must be whole), or undefined where it refuses the string.
 */
export function parseCpus(value: string): bigint | undefined {
    const m = /^(\d*)(?:\.(\d*))?$/.exec(value);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) return undefined;
    const frac = m[2] ?? "";
    if (frac.replace(/0+$/, "").length > 9) return undefined;
    return BigInt(m[1] || "0") * NANO + BigInt(frac.padEnd(9, "0").slice(0, 9) || "0");
}

/** NanoCPUs of a limit in hundredths of a CPU (families.yaml `runtime.cpus`). */
export function nanoCpus(cpus: number): bigint {
    return BigInt(Math.round(cpus * 100)) * 10_000_000n;
}

/**
 * The `cpus` input for a limit: exactly the string the provider will read back, so the state
 * never differs from the input. Throws for a limit whose read-back form parses to another
 * limit (0.05 reads back as "0.1": the provider could never keep it); `cpusReadBack` says which.
 */
export function cpusInput(cpus: number): string {
    const nano = nanoCpus(cpus);
    const s = nanoCpusString(nano);
    if (parseCpus(s) !== nano) throw new Error(`a CPU limit of ${cpus} reads back from the Docker provider as "${s}", another limit`);
    return s;
}

/** Whether the provider keeps a limit as given (see `cpusInput`). */
export function cpusReadBack(cpus: number): { ok: boolean; form: string } {
    const nano = nanoCpus(cpus);
    const form = nanoCpusString(nano);
    return { ok: parseCpus(form) === nano, form };
}
