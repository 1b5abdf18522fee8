/**
 * Go's spellings of values the providers store: time.Duration's String() and ParseDuration, as
 * the Docker provider's container Read writes healthcheck durations (`Duration.String()`) and its
 * Create parses them (`time.ParseDuration`).
 */

const UNITS: [string, number][] = [["h", 3600e9], ["m", 60e9], ["s", 1e9], ["ms", 1e6], ["us", 1e3], ["µs", 1e3], ["ns", 1]];

/** time.ParseDuration for the units Go accepts ("1h2m3s", "1.5s", "500ms"); nanoseconds. */
export function parseGoDuration(d: string): number {
    if (d === "0") return 0;
    const re = /(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g;
    let total = 0;
    let consumed = 0;
    for (const m of d.matchAll(re)) {
        if (m.index !== consumed) break;
        total += Number(m[1]) * UNITS.find(([u]) => u === m[2])![1];
        consumed += m[0].length;
    }
    if (consumed !== d.length || d === "") throw new Error(`harness: cannot read duration '${d}'`);
    return Math.round(total);
}

/** Digits of `n` units of 10^-places, trailing zeros (and the point) dropped: Go's fmtFrac. */
function withFraction(n: number, places: number): string {
    const s = String(n).padStart(places + 1, "0");
    const whole = s.slice(0, s.length - places);
    const frac = s.slice(s.length - places).replace(/0+$/, "");
    return frac ? `${whole}.${frac}` : whole;
}

/** time.Duration.String(): "0s", "500ms", "1.5s", "30s", "5m0s", "1h0m0s". */
export function goDurationString(ns: number): string {
    if (ns === 0) return "0s";
    if (ns < 1e9) {
        if (ns < 1e3) return `${ns}ns`;
        if (ns < 1e6) return `${withFraction(ns, 3)}µs`;
        return `${withFraction(ns, 6)}ms`;
    }
    const h = Math.floor(ns / 3600e9);
    const m = Math.floor((ns % 3600e9) / 60e9);
    const s = withFraction(ns % 60e9, 9) + "s";
    if (h > 0) return `${h}h${m}m${s}`;
    if (m > 0) return `${m}m${s}`;
    return s;
}
