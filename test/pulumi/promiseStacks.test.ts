import * as assert from "assert";
import { PROMISE_CAPTURE, skipPromiseStacks } from "../../fleet/pulumi/promiseStacks";

// @internal in the SDK, so absent from its typings; the module itself is what the program loads.
const { debuggablePromise } = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T> }; // eslint-disable-line @typescript-eslint/no-require-imports

type Formatter = ((err: Error, frames: NodeJS.CallSite[]) => unknown) | undefined;

/** Runs f with Error.prepareStackTrace set to `formatter`, then puts the process's back. */
function withFormatter<T>(formatter: Formatter, f: () => T): T {
    const saved = Error.prepareStackTrace;
    Error.prepareStackTrace = formatter as typeof Error.prepareStackTrace;
    try {
        return f();
    } finally {
        Error.prepareStackTrace = saved;
    }
}

const marking: Formatter = (_e, frames) => `mapped ${frames.length > 0}`;

describe("fleet/pulumi/promiseStacks: the stacks of Pulumi's promises are not formatted", () => {
    it("@pulumi/pulumi's debuggablePromise, this project's version: its captured stack is empty; the formatter still formats every other error", () => {
        withFormatter(marking, () => {
            assert.strictEqual(skipPromiseStacks({}), true);
            // It marks the promise it is given (and returns one chained on it).
            const p = Promise.resolve(1) as Promise<number> & { _debugStackTrace?: string };
            void debuggablePromise(p, "ctx");
            assert.strictEqual(p._debugStackTrace, "");
            assert.strictEqual(new Error("x").stack, "mapped true");
            // Once per process: a second call (the mocks evaluate index.ts again) wraps nothing more.
            const wrapped = Error.prepareStackTrace;
            assert.strictEqual(skipPromiseStacks({}), true);
            assert.strictEqual(Error.prepareStackTrace, wrapped);
        });
    });

    it("under mocha's ts-node the formatter maps to TypeScript, and still does for errors of this file", () => {
        // ts-node (the .mocharc's require, as Pulumi's language host runs a TypeScript program)
        // installed source-map-support before this file loaded.
        assert.strictEqual(typeof Error.prepareStackTrace, "function");
        withFormatter(Error.prepareStackTrace, () => {
            skipPromiseStacks({});
            const line = Number(/promiseStacks\.test\.ts:(\d+):\d+/.exec(new Error("here").stack ?? "")?.[1]);
            assert.strictEqual(line, 44, "the line of `new Error` in this TypeScript file");
        });
    });

    const cases: [string, NodeJS.ProcessEnv, Formatter, boolean][] = [
        ["PULUMI_DEBUG_PROMISE_LEAKS set: the leak report prints the stacks", { PULUMI_DEBUG_PROMISE_LEAKS: "1" }, marking, false],
        ["no formatter installed: V8's own is already unmapped", {}, undefined, false],
    ];
    for (const [what, env, formatter, wrapped] of cases) {
        it(`left alone: ${what}`, () => {
            withFormatter(formatter, () => {
                assert.strictEqual(skipPromiseStacks(env), wrapped);
                assert.strictEqual(Error.prepareStackTrace, formatter);
            });
        });
    }

    it(`names the function of Pulumi's that captures them: ${PROMISE_CAPTURE}`, () => {
        assert.strictEqual(debuggablePromise.name, PROMISE_CAPTURE);
    });
});
