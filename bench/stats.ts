/** Figures over repeated runs: the benchmark reports medians and spread, never a single run. */

export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** `median m s (min a, max b)` with one decimal. */
export function spread(xs: number[]): string {
    return `median ${median(xs).toFixed(1)} s (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;
}

/** The rounds of an alternated comparison: round r starts with variant r mod n, so no variant always runs first. */
export function alternated<T>(variants: T[], rounds: number): T[][] {
    return Array.from({ length: rounds }, (_, r) => variants.map((_, i) => variants[(i + r) % variants.length]));
}
