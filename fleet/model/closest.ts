/** "Did you mean": the known word closest to a misspelt one. */

/** Edit distance (insertions, deletions, substitutions). */
export function levenshtein(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    return d[a.length][b.length];
}

/**
 * The candidate closest to `word` (case aside), when it is close enough to be the word meant:
 * at most 2 edits, or a third of the word's length for long words. Ties go to the first.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
    const limit = Math.max(2, Math.floor(word.length / 3));
    let best: { name: string; distance: number } | undefined;
    for (const c of candidates) {
        const distance = levenshtein(word.toLowerCase(), c.toLowerCase());
        if (distance <= limit && (!best || distance < best.distance)) best = { name: c, distance };
    }
    return best?.name;
}
