// EC2 as a cloud provider for the fleet (cloud/fleet.ts): N instances of a
// system from one RunInstances call, tagged at creation with troupe's
// owner labels (instances and their volumes, and spot requests), a
// user-data boot script, terminated by their own shutdown
// (InstanceInitiatedShutdownBehavior=terminate); then DescribeInstances
// until they run with an address.

import type { _InstanceType, EC2Client, Instance, RunInstancesCommandInput, Tag } from "@aws-sdk/client-ec2";
import { TroupeError } from "../../util/errors.js";
import { mapLimit } from "../../util/limit.js";
import { backoffDelay, pause } from "../cloud/backoff.js";
import type { CloudMachine, CloudProvider, CreateRequest } from "../cloud/fleet.js";
import { classifyEc2Error, ec2Client, loadEc2Sdk } from "./client.js";
import type { Ec2SystemConfig } from "./config.js";

export interface Ec2Machine extends CloudMachine {
  readonly region: string | undefined;
  readonly privateAddress?: string;
  readonly publicAddress?: string;
}

export interface Ec2ProviderOptions {
  /** The system's settings. */
  readonly config: (system: CreateRequest["system"]) => Ec2SystemConfig;
  /** The AMI id and root device of an image (resolved once per system). */
  readonly image: (config: Ec2SystemConfig) => Promise<ResolvedImage>;
  /** The labels of what is made now, to be gone at `haltAt`. */
  readonly labels: (haltAt: Date) => Record<string, string>;
  /** The user-data script of a system's machines, as text. */
  readonly userData: (system: CreateRequest["system"], config: Ec2SystemConfig) => string;
  /** Tags of the backend (e.g. the backend's name). */
  readonly extraTags?: Readonly<Record<string, string>>;
}

export interface Ec2Provider extends CloudProvider<Ec2Machine> {
  /** Instance `id` of `config`'s region as it runs now (an earlier run kept it); undefined when it is gone. */
  find(id: string, config: Ec2SystemConfig, signal?: AbortSignal): Promise<Ec2Machine | undefined>;
}

export interface ResolvedImage {
  readonly id: string;
  readonly rootDevice?: string;
}

const NAME_TAG_CONCURRENCY = 4;

function tags(labels: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(labels).map(([Key, Value]) => ({ Key, Value }));
}

/** Where SSH reaches an instance. */
export function addressOf(i: Pick<Instance, "PublicIpAddress" | "PrivateIpAddress">, want: Ec2SystemConfig["address"]): string | undefined {
  if (want === "private") return i.PrivateIpAddress;
  if (want === "public") return i.PublicIpAddress;
  return i.PublicIpAddress ?? i.PrivateIpAddress;
}

function machineOf(id: string, inst: Instance, config: Ec2SystemConfig): Ec2Machine {
  return {
    id,
    region: config.region,
    address: addressOf(inst, config.address)!,
    ...(inst.PrivateIpAddress ? { privateAddress: inst.PrivateIpAddress } : {}),
    ...(inst.PublicIpAddress ? { publicAddress: inst.PublicIpAddress } : {}),
  };
}

export function ec2Provider(o: Ec2ProviderOptions): Ec2Provider {
  /** Regions of the machines made, to destroy them in the right one. */
  const regionOf = new Map<string, string | undefined>();

  async function runInstances(req: CreateRequest, config: Ec2SystemConfig, client: EC2Client): Promise<Instance[]> {
    const { RunInstancesCommand } = await loadEc2Sdk();
    const image = await o.image(config);
    const labels = { ...o.labels(req.haltAt), ...o.extraTags };
    const n = req.names.length;
    const input: RunInstancesCommandInput = {
      ImageId: image.id,
      InstanceType: config.instanceType as _InstanceType,
      MinCount: req.all ? n : 1,
      MaxCount: n,
      UserData: Buffer.from(o.userData(req.system, config)).toString("base64"),
      InstanceInitiatedShutdownBehavior: "terminate",
      // The same token on a retry: EC2 makes the instances once.
      ClientToken: req.token,
      TagSpecifications: [
        { ResourceType: "instance", Tags: tags(labels) },
        { ResourceType: "volume", Tags: tags(labels) },
        ...(config.spot ? [{ ResourceType: "spot-instances-request" as const, Tags: tags(labels) }] : []),
      ],
      ...(config.subnet ? { SubnetId: config.subnet } : {}),
      ...(config.securityGroups.length ? { SecurityGroupIds: [...config.securityGroups] } : {}),
      ...(config.keyName ? { KeyName: config.keyName } : {}),
      ...(config.spot
        ? {
            InstanceMarketOptions: {
              MarketType: "spot",
              SpotOptions: { SpotInstanceType: "one-time", InstanceInterruptionBehavior: "terminate" },
            },
          }
        : {}),
      ...(config.storageGb !== undefined && image.rootDevice
        ? { BlockDeviceMappings: [{ DeviceName: image.rootDevice, Ebs: { VolumeSize: config.storageGb, DeleteOnTermination: true } }] }
        : {}),
    };
    const out = await client.send(new RunInstancesCommand(input), { abortSignal: req.signal });
    const made = out.Instances ?? [];
    return made;
  }

  /** Name each one for people (the console's Name column), a few calls at a time; a failure costs only the name. */
  async function nameThem(made: readonly Instance[], names: readonly string[], client: EC2Client): Promise<void> {
    const { CreateTagsCommand } = await loadEc2Sdk();
    await mapLimit(made, NAME_TAG_CONCURRENCY, async (inst, i) => {
      const name = names[i];
      if (!inst.InstanceId || !name) return;
      await client
        .send(new CreateTagsCommand({ Resources: [inst.InstanceId], Tags: [{ Key: "Name", Value: name }] }))
        .catch(() => undefined);
    });
  }

  /** DescribeInstances until every instance runs with an address, or is gone. */
  async function untilRunning(
    ids: readonly string[],
    config: Ec2SystemConfig,
    client: EC2Client,
    signal: AbortSignal,
  ): Promise<Map<string, Instance>> {
    const { DescribeInstancesCommand } = await loadEc2Sdk();
    const up = new Map<string, Instance>();
    const gone = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      const waiting = ids.filter((id) => !up.has(id) && !gone.has(id));
      if (waiting.length === 0) return up;
      const out = await client.send(new DescribeInstancesCommand({ InstanceIds: waiting }), { abortSignal: signal });
      for (const inst of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        const id = inst.InstanceId;
        if (!id) continue;
        const state = inst.State?.Name;
        if (state === "running" && addressOf(inst, config.address)) up.set(id, inst);
        else if (state === "running" && config.address === "public") {
          throw new TroupeError("E_BACKEND", `ec2: ${id} has no public address; use a subnet that gives one, or address: private`);
        } else if (state === "shutting-down" || state === "terminated" || state === "stopped" || state === "stopping") gone.add(id);
      }
      if (ids.every((id) => up.has(id) || gone.has(id))) return up;
      await pause(Math.max(1000, backoffDelay(attempt, 2000, 10_000, Math.random)), signal);
    }
  }

  return {
    type: "ec2",

    async create(req, created) {
      const config = o.config(req.system);
      const client = await ec2Client(config.region);
      const made = await runInstances(req, config, client);
      const ids = made.map((i) => i.InstanceId).filter((id): id is string => id !== undefined);
      for (const id of ids) regionOf.set(id, config.region);
      created(ids.map((id) => ({ id })));
      await nameThem(made, req.names, client);
      const up = await untilRunning(ids, config, client, req.signal);
      return ids.filter((id) => up.has(id)).map((id) => machineOf(id, up.get(id)!, config));
    },

    async find(id, config, signal = new AbortController().signal) {
      const { DescribeInstancesCommand } = await loadEc2Sdk();
      const client = await ec2Client(config.region);
      let up: Map<string, Instance>;
      try {
        const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }), { abortSignal: signal });
        const state = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id)?.State?.Name;
        if (state !== "running" && state !== "pending") return undefined;
        up = await untilRunning([id], config, client, signal);
      } catch (err) {
        if (classifyEc2Error(err).code === "InvalidInstanceID.NotFound") return undefined;
        throw err;
      }
      const inst = up.get(id);
      if (!inst) return undefined;
      regionOf.set(id, config.region);
      return machineOf(id, inst, config);
    },

    async destroy(ids) {
      const { TerminateInstancesCommand } = await loadEc2Sdk();
      const byRegion = new Map<string | undefined, string[]>();
      for (const id of ids) {
        const r = regionOf.get(id);
        byRegion.set(r, [...(byRegion.get(r) ?? []), id]);
      }
      for (const [region, list] of byRegion) {
        const client = await ec2Client(region);
        try {
          await client.send(new TerminateInstancesCommand({ InstanceIds: list }));
        } catch (err) {
          // Already gone is done.
          if (classifyEc2Error(err).code !== "InvalidInstanceID.NotFound") throw err;
        }
        for (const id of list) regionOf.delete(id);
      }
    },

    classify: classifyEc2Error,
  };
}

/** An AMI by id, or the newest AMI whose name matches (`*` wildcards), among `owners`'. */
export async function resolveImage(client: EC2Client, config: Ec2SystemConfig): Promise<ResolvedImage> {
  const { DescribeImagesCommand } = await loadEc2Sdk();
  const byId = /^ami-[0-9a-f]+$/.test(config.image);
  const out = await client.send(
    new DescribeImagesCommand(
      byId
        ? { ImageIds: [config.image] }
        : {
            Owners: [...config.imageOwners],
            Filters: [
              { Name: "name", Values: [config.image] },
              { Name: "state", Values: ["available"] },
            ],
          },
    ),
  );
  const images = (out.Images ?? []).slice().sort((a, b) => (b.CreationDate ?? "").localeCompare(a.CreationDate ?? ""));
  const img = images[0];
  if (!img?.ImageId) {
    throw new TroupeError(
      "E_BACKEND",
      byId
        ? `ec2: ${config.label}: image ${config.image} does not exist in ${config.region ?? "the configured region"}`
        : `ec2: ${config.label}: no image named ${JSON.stringify(config.image)} owned by ${config.imageOwners.join(", ")} in ` +
            `${config.region ?? "the configured region"}; check the name, or set image-owners (Canonical's Ubuntu AMIs: 099720109477)`,
    );
  }
  return { id: img.ImageId, ...(img.RootDeviceName ? { rootDevice: img.RootDeviceName } : {}) };
}
