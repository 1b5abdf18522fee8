/** How the harness refuses what it does not stand in for: the resource by type and name. */
import { Registered } from "../mocks";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Inputs = Record<string, any>;

export function fail(r: Pick<Registered, "type" | "name">, what: string): never {
    throw new Error(`harness: ${r.type} ${r.name}: ${what}`);
}
