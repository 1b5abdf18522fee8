/** The fleet policy pack: `pulumi preview --policy-pack policy`. The rules are in policies.ts. */
import { PolicyPack } from "@pulumi/policy";
import { fleetPolicies } from "./policies";

new PolicyPack("fleet", { policies: fleetPolicies });
