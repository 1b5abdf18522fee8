/**
 * The stack trace @pulumi/pulumi formats for every promise it makes, and nobody reads.
 *
 * `debuggablePromise` (@pulumi/pulumi 3.270.0 runtime/debuggable.js, line 253) stores
 * `new Error().stack` on each promise of every resource and output, eagerly: the text is read
 * only by the leak report, and only when PULUMI_DEBUG_PROMISE_LEAKS is set (debuggable.js lines
 * 224 to 238). Pulumi's language host runs a TypeScript program through ts-node (cmd/run/run.js:
 * `tsn.register(options)`), which installs source-map-support as `Error.prepareStackTrace` (ts-node
 * 10.9.2 dist/index.js `installSourceMapSupport`), so each of those stacks is mapped frame by frame
 * back to TypeScript. Measured on the mainpc stack's evaluation under mocks (test/index.test.ts,
 * 2 cores): 21 s with them, 6.5 s without; source-map-support was half of the process's CPU.
 *
 * So the formatting is skipped for those captures alone: an Error whose first frame is
 * `debuggablePromise` gets an empty stack. Every other stack (an error the program throws,
 * Pulumi's own `Resource.stackTrace` for a resource's source position) is formatted as before, by
 * whatever formatter was installed. With PULUMI_DEBUG_PROMISE_LEAKS set nothing is changed: the
 * leak report then prints those stacks.
 */

/** Pulumi's function whose captures are skipped. test/pulumi/promiseStacks.test.ts pins the name. */
export const PROMISE_CAPTURE = "debuggablePromise";

const SKIPPING = Symbol.for("fleet.skipPromiseStacks");

type Formatter = (error: Error, frames: NodeJS.CallSite[]) => unknown;

/**
 * Wraps the installed stack formatter once per process; returns whether it is (now) wrapped.
 * Nothing is done without a formatter (V8's own, unmapped, is then the cheap one) or with
 * PULUMI_DEBUG_PROMISE_LEAKS set.
 */
export function skipPromiseStacks(env: NodeJS.ProcessEnv = process.env): boolean {
    const installed = Error.prepareStackTrace as (Formatter & { [SKIPPING]?: true }) | undefined;
    if (installed?.[SKIPPING]) return true;
    if (typeof installed !== "function" || env.PULUMI_DEBUG_PROMISE_LEAKS) return false;
    const skipping: Formatter & { [SKIPPING]?: true } = (error, frames) =>
        frames.length > 0 && frames[0].getFunctionName() === PROMISE_CAPTURE ? "" : installed(error, frames);
    skipping[SKIPPING] = true;
    Error.prepareStackTrace = skipping as typeof Error.prepareStackTrace;
    return true;
}
