/**
 * Every image one host needs: its families in build order, then its services. Resource names
 * are the image repository names (`family-web`, `nlu-agent`), part of the state contract.
 */
import * as pulumi from "@pulumi/pulumi";
import { BuildPlan } from "../fleet/imageplan/buildPlan";
import { FamilyImage, ImageSettings, ServiceImage } from "./image";

export interface HostImagesArgs {
    plan: BuildPlan;
    settings: ImageSettings;
}

export class HostImages extends pulumi.ComponentResource {
    public readonly families: Readonly<Record<string, FamilyImage>>;
    /** By service name. */
    public readonly services: Readonly<Record<string, ServiceImage>>;

    constructor(name: string, args: HostImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:images:HostImages", name, {}, opts);
        const families: Record<string, FamilyImage> = {};
        for (const b of args.plan.families) {
            // Parents come first in the plan, so the parent's component already exists.
            const parent = b.spec.parent ? families[b.spec.parent] : undefined;
            families[b.spec.family] = new FamilyImage(b.spec.repository, { build: b, base: parent?.baseRef, settings: args.settings }, { parent: this });
        }
        const services: Record<string, ServiceImage> = {};
        for (const b of args.plan.services) {
            services[b.spec.service] = new ServiceImage(b.spec.repository, { build: b, base: families[b.spec.family].baseRef, settings: args.settings }, { parent: this });
        }
        this.families = families;
        this.services = services;
        this.registerOutputs({
            families: Object.fromEntries(Object.entries(families).map(([k, v]) => [k, v.ref])),
            services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, v.ref])),
        });
    }
}
