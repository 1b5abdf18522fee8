/**
 * What the Pulumi CLI does with `Pulumi.yaml` and `Pulumi.<stack>.yaml` before the program runs,
 * reproduced so tests, `scripts/fleet check-stack` and the stand-in CLI of the script tests
 * see the config exactly as `pulumi up` would hand it to `index.ts`, or fail as it would.
 *
 * Followed from pulumi/pulumi's Go source (sdk v3; the project pins @pulumi/pulumi 3.270.0, and
 * these files read as stored for that line of releases):
 * - sdk/go/common/workspace/config.go @ 0a7aa0e2: `mergeConfig` (defaults applied, missing keys),
 *   `formatMissingKeys` / `missingStackConfigurationKeysError` (the text and the sort),
 *   `validateStackConfigValues` / `validateStackConfigValue` (secrets, then types);
 * - sdk/go/common/workspace/project.go @ 0351806b: `ValidateProject` (name), `Project.Validate`
 *   (default vs value, array items, namespaced keys), `ValidateConfigValue`, `InferFullTypeName`;
 * - sdk/go/common/workspace/project.json @ 0498be11: the declaration shape (type, items,
 *   description, secret, default) and `runtime`;
 * - sdk/go/common/resource/config/key.go: `ParseKey` (`<namespace>:<name>`);
 * - the files are read with gopkg.in/yaml.v3, which refuses duplicate mapping keys.
 *
 * Everything here is pure: text in, data or `FleetIssue`s out. Where the CLI stops at its first
 * error, the functions report every problem and say which one the CLI would print first.
 */
export * from "./types";
export * from "./yaml";
export * from "./project";
export * from "./stackFile";
export * from "./merge";
export * from "./policyProject";
export * from "./commands";
