/**
 * Shapes of what the Pulumi CLI reads: Pulumi.yaml declarations, stack values, the merged config.
 * See ./config.ts for the sources these rules follow.
 */
import { FleetIssue } from "../model/issues";

export const PULUMI_SOURCE = "pulumi/pulumi sdk/go/common/workspace (config.go 0a7aa0e2, project.go 0351806b, project.json 0498be11)";

export type ConfigTypeName = "string" | "integer" | "boolean" | "array";
export interface ItemsType { type: string; items?: ItemsType }

/** One entry of `config:` in Pulumi.yaml, after the CLI's shorthand rewrite. */
export interface ConfigDeclaration {
    type?: ConfigTypeName;
    items?: ItemsType;
    default?: unknown;
    value?: unknown;
    secret: boolean;
    description?: string;
    line: number;
}

export interface PulumiProject {
    file: string;
    name: string;
    runtime: string;
    config: Record<string, ConfigDeclaration>;
}

/** A stack config value as the CLI holds it (`config.Value`): text, secure or an object (JSON). */
export interface StackValue {
    /** Plain text, JSON text of an object, or the ciphertext of a secure value. */
    text: string;
    secure: boolean;
    object: boolean;
    /** Where it was set (a stack file, an override file, or Pulumi.yaml's default). */
    file: string;
    line: number;
}

export interface StackFile {
    file: string;
    /** Namespaced keys, e.g. `fleet:machine`. */
    config: Map<string, StackValue>;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: FleetIssue[] };
