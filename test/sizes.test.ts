/**
 * The benchmark's image-size figures (bench/sizes.ts): the ratio against the single-stage builds
 * and the single-stage Dockerfile they are built from.
 */
import * as assert from "assert";
import { requirementsOf, singleStageDockerfile, SizeRow, sizeRatios } from "../bench/sizes";

const row = (service: string, image: number, imageAboveRoot: number, single: number, singleAboveRoot: number): SizeRow => ({ service, image, imageAboveRoot, single, singleAboveRoot, singleAptLayer: 0 });

describe("the benchmark's image sizes", () => {
    const cases: [string, SizeRow[], { image: number; aboveRoot: number }][] = [
        ["one service", [row("A", 100, 20, 200, 120)], { image: 0.5, aboveRoot: 20 / 120 }],
        // The median of the ratios, not the ratio of the medians: B's ratio is the middle one.
        ["three services", [row("A", 100, 10, 400, 100), row("B", 150, 30, 300, 100), row("C", 90, 90, 100, 100)], { image: 0.5, aboveRoot: 0.3 }],
        ["an even count takes the mean of the middle two", [row("A", 50, 10, 100, 100), row("B", 70, 30, 100, 100)], { image: 0.6, aboveRoot: 0.2 }],
    ];
    for (const [name, rows, want] of cases) {
        it(`median ratios: ${name}`, () => {
            const got = sizeRatios(rows);
            assert.deepStrictEqual([got.image.toFixed(6), got.aboveRoot.toFixed(6)], [want.image.toFixed(6), want.aboveRoot.toFixed(6)]);
        });
    }

    it("the single stage installs the image's distributions by name and version, without pip's own tools", () => {
        // `pip list --format freeze` of a service image whose structlog came from its wheelhouse.
        assert.strictEqual(requirementsOf("anyio==4.4.0\npip==23.0.1\nsetuptools==66.1.1\nstructlog==24.1.0\nwheel==0.42.0\n"), "anyio==4.4.0\nstructlog==24.1.0\n");
    });

    it("the single-stage build keeps its build tools, caches and the whole repository, from the same root and index", () => {
        assert.strictEqual(singleStageDockerfile("fleet-test/bookworm-python:slim", "http://127.0.0.1:3141/simple/"), [
            "FROM fleet-test/bookworm-python:slim",
            "ENV DEBIAN_FRONTEND=noninteractive",
            "RUN apt-get update && apt-get install -y build-essential ca-certificates tini tzdata",
            "RUN python3 -m venv /opt/venv",
            "COPY requirements.txt /tmp/requirements.txt",
            "RUN /opt/venv/bin/pip install --index-url http://127.0.0.1:3141/simple/ -r /tmp/requirements.txt",
            "COPY app/ /app/",
            "USER 10001",
            'ENTRYPOINT ["/usr/bin/tini", "--"]',
            "",
        ].join("\n"));
    });
});
