/**
 * The supervisor's Docker API proxy (HAProxy) against the requests a filtering proxy must survive,
 * with the engine's own event stream as the witness that nothing outside the allow-list got through.
 */
import * as assert from "assert";
import { ATTACKS, engineEvents, StackContext } from "./context";

export function proxyAttacks(ctx: StackContext): void {
    it("the Docker API proxy (HAProxy) survives the requests a filtering proxy must: nothing outside the allow-list reaches the engine", async () => {
        const sup = await ctx.docker.getContainer(ctx.services.SelfHealingSupervisor.container).inspect();
        const api = `v${(await ctx.docker.version()).ApiVersion}`;
        // Fractional seconds (the Engine API takes them): a whole-second window also caught
        // the previous test's execs on the supervisor.
        const since = Date.now() / 1000;
        const e = await ctx.docker.getContainer(sup.Id).exec({ Cmd: ["/opt/venv/bin/python", "-c", ATTACKS, "docker-api-proxy", "2375", api, sup.Name.slice(1), sup.Image], AttachStdout: true, AttachStderr: true });
        const stream = await e.start({ hijack: true, stdin: false });
        let output = "";
        const sink = { write: (c: Buffer) => { output += c.toString(); return true; } } as unknown as NodeJS.WritableStream;
        ctx.docker.modem.demuxStream(stream, sink, sink);
        await new Promise((res) => stream.on("end", res));
        assert.strictEqual((await e.inspect()).ExitCode, 0, output);
        await new Promise((res) => setTimeout(res, 1500));
        const until = Math.ceil(Date.now() / 1000) + 1;
        assert.deepStrictEqual(JSON.parse(output), {
            "absolute-form": ["HTTP/1.1 403"], "absolute-form-allowed": ["HTTP/1.1 200"],
            // The body is read chunked (Content-Length dropped): the hidden create is body, never a request.
            "cl-te": ["HTTP/1.1 200"], "te-cl": ["HTTP/1.1 404"], "te-obfuscated": ["HTTP/1.1 400"], "te-underscore": ["HTTP/1.1 403"],
            "request-in-body": ["HTTP/1.1 200"],
            // One answer, then the connection is closed: the pipelined create and exec are never read.
            "pipelined": ["HTTP/1.1 200"],
            "encoded-slash": ["HTTP/1.1 403"], "encoded-dots": ["HTTP/1.1 403"], "dot-segments": ["HTTP/1.1 403"], "dot-segments-restart": ["HTTP/1.1 403"], "double-slash": ["HTTP/1.1 403"],
            "http10": ["HTTP/1.1 403"], "http10-allowed": ["HTTP/1.0 200"],
            "lower-case-post": ["HTTP/1.1 403"], "lower-case-get": ["HTTP/1.1 403"],
            "oversized-header": ["HTTP/1.1 400"], "oversized-create": ["HTTP/1.1 400"],
            "exec": ["HTTP/1.1 403"], "pull": ["HTTP/1.1 403"], "create": ["HTTP/1.1 403"],
        });
        const events = await engineEvents(ctx.docker, since, until);
        const probe = healthProbeAction(sup.Config.Healthcheck?.Test);
        // The window holds this test's own exec: the stream is read, and it shows execs.
        assert.ok(events.some((ev) => ev.Action?.startsWith("exec_create") && ev.Actor?.Attributes?.execID === e.id), "the test's own exec is in the event stream");
        const leaked = events.filter((ev) => {
            const a = ev.Actor?.Attributes ?? {};
            if (ev.Type === "container" && ev.Action === "create") return (a.name ?? "").startsWith("fleet-attack") || a["fleet.attack"] !== undefined;
            // An exec the proxy let through shows as its exec_create; an earlier test's exec may still die inside the window.
            // The daemon's own health probe is an exec too, named as moby v26.1.5 names it (daemon/health.go, line 91).
            if (ev.Type === "container" && ev.Action?.startsWith("exec_create")) return ev.Actor?.ID === sup.Id && a.execID !== e.id && ev.Action !== probe;
            if (ev.Type === "image") return ev.Action === "pull" && `${ev.Actor?.ID}`.includes("fleet-attack");
            return false;
        });
        assert.deepStrictEqual(leaked, []);
        const made = await ctx.docker.listContainers({ all: true, filters: { name: ["fleet-attack"] } });
        assert.deepStrictEqual(made, []);
    });
}

/**
 * The event action of the daemon's health probe exec, as moby v26 writes it: `exec_create: ` then
 * the entrypoint, a space and the arguments joined by spaces (daemon/health.go cmdProbe.run), the
 * CMD-SHELL form run through the image's shell, `/bin/sh -c` unless set (getShell).
 */
export function healthProbeAction(test: string[] | undefined): string | undefined {
    if (!test || test.length < 2) return undefined;
    const cmd = test[0] === "CMD-SHELL" ? ["/bin/sh", "-c", test.slice(1).join(" ")] : test[0] === "CMD" ? test.slice(1) : undefined;
    return cmd ? `exec_create: ${cmd[0]} ${cmd.slice(1).join(" ")}` : undefined;
}
