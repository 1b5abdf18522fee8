/**
 * Durations as Go's time.Duration.String() writes them ("30s", "5m0s", "1h30m0s"). The Docker
 * provider reads healthcheck durations back in this form; any other spelling ("5m") shows as
 * a diff on every preview.
 */
export function goDuration(seconds: number): string {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`duration must be whole seconds, got ${seconds}`);
    if (seconds === 0) return "0s";
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    if (h > 0) return `${h}h${m}m${s}s`;
    if (m > 0) return `${m}m${s}s`;
    return `${s}s`;
}
