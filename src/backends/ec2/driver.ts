// The ec2 backend: hosts are EC2 instances, made through the fleet
// (cloud/fleet.ts: batched RunInstances, bounded API calls, backoff,
// partial policy, max-hosts), each with a lifetime it enforces itself
// (user-data's shutdown timer, InstanceInitiatedShutdownBehavior=terminate)
// and troupe's tags, reached over SSH with the run's own key (or the
// system's key pair), terminated on discard and when the run ends however
// it ends. With -reuse, instances are kept for later runs (recorded with
// the run key that lets root in, and labelled without their troupe process,
// so gc leaves them until their halt time) and taken back by the next run.
// Keys: see config.ts and cloud/settings.ts.

import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Backend, System } from "../../model/project.js";
import { TroupeError, isTroupeError } from "../../util/errors.js";
import type { AllocateOptions, BackendContext, BackendDriver, Host, RecordedHost } from "../backend.js";
import { claimHostName } from "../host-names.js";
import { hostnameFor } from "../lab/layout.js";
import type { Connected } from "../ssh/connect.js";
import { bootScript } from "../cloud/boot-script.js";
import { cloudError } from "../cloud/errors.js";
import { CLOUD_ALLOCATE_CONCURRENCY, CloudFleet, fleetHostMethods, takeBack } from "../cloud/fleet.js";
import { cloudLabels } from "../cloud/owner.js";
import { experimentData, experimentImage, intoExperiment } from "../cloud/experiment.js";
import { cloudSettings, lifetimeMinutes, type CloudSettings } from "../cloud/settings.js";
import { makeRunKey, reachCloudHost, type RunKey } from "../cloud/ssh.js";
import { classifyEc2Error, configuredRegion, ec2Client, loadEc2Sdk } from "./client.js";
import { ec2SystemConfig, type Ec2SystemConfig } from "./config.js";
import { ec2Provider, resolveImage, type Ec2Machine, type Ec2Provider, type ResolvedImage } from "./provider.js";

export interface Ec2DriverOptions {
  /** For tests: told the instance ids of each RunInstances call as soon as EC2 answers. */
  readonly onCreated?: (ids: readonly string[]) => void;
}

export function createEc2Driver(backend: Backend, ctx: BackendContext, options: Ec2DriverOptions = {}): BackendDriver {
  const configs = new Map<string, Ec2SystemConfig>();
  const images = new Map<string, Promise<ResolvedImage>>();
  let settings: CloudSettings | undefined;
  let key: Promise<RunKey> | undefined;
  let provider: Ec2Provider | undefined;
  let fleet: CloudFleet<Ec2Machine, Connected> | undefined;
  const keyDir = resolve(ctx.runDir, "ec2", hostnameFor(backend.name));

  const configOf = (system: System): Ec2SystemConfig => {
    let c = configs.get(system.name);
    if (!c) configs.set(system.name, (c = ec2SystemConfig(backend, system)));
    return c;
  };
  const settingsOf = (): CloudSettings => (settings ??= cloudSettings(backend, ctx.cloudGuards ?? {}));
  const runKey = (): Promise<RunKey> => (key ??= makeRunKey(keyDir, `troupe-${ctx.runId ?? "run"}`));

  const imageOf = (config: Ec2SystemConfig): Promise<ResolvedImage> => {
    let p = images.get(config.label);
    if (!p) {
      p = ec2Client(config.region).then((c) => resolveImage(c, config));
      images.set(config.label, p);
      p.catch(() => images.delete(config.label));
    }
    return p;
  };

  /** The user-data of a system's instances: the run key for root unless the system logs in with its key pair, the shutdown timer, the experiment's container. */
  const userData = (system: System, config: Ec2SystemConfig, publicKey: string): string => {
    const image = experimentImage(system);
    return bootScript({
      publicKey,
      lifetimeMinutes: lifetimeMinutes(settingsOf()),
      ...(config.username !== "root" ? { user: config.username } : {}),
      ...(image !== undefined ? { experimentImage: image } : {}),
    });
  };

  const providerOf = async (): Promise<Ec2Provider> => {
    if (provider) return provider;
    const { publicKey } = await runKey();
    return (provider ??= ec2Provider({
      config: configOf,
      image: imageOf,
      labels: (haltAt) => cloudLabels(ctx.runId, haltAt, ctx.keepHosts === true),
      userData: (system, config) => userData(system, config, publicKey),
      extraTags: { "troupe-backend": hostnameFor(backend.name) },
    }));
  };

  const fleetOf = async (): Promise<CloudFleet<Ec2Machine, Connected>> => {
    if (fleet) return fleet;
    const p = await providerOf();
    fleet ??= new CloudFleet<Ec2Machine, Connected>({
      provider: p,
      settings: settingsOf(),
      events: ctx.events,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(options.onCreated ? { onCreated: options.onCreated } : {}),
    });
    return fleet;
  };

  /** The host of a machine. */
  const hostOf = (name: string, system: System, machine: Ec2Machine, transport: Host["transport"], key?: string): Host => ({
    name,
    address: machine.address,
    backend: backend.name,
    system: system.name,
    transport,
    projectPath: ctx.remotePath,
    data: {
      id: machine.id,
      ...(machine.region ? { region: machine.region } : {}),
      ...(machine.privateAddress ? { privateAddress: machine.privateAddress } : {}),
      // The run key lets root in: a later run that takes the machine back (-reuse) logs in with it.
      ...(key !== undefined ? { key } : {}),
      ...experimentData(system),
    },
  });

  /** The run key of an earlier run, from its record, as a file of this run. */
  const recordedKey = async (name: string, text: string): Promise<string> => {
    const dir = join(keyDir, "reused");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, name);
    await writeFile(file, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o600 });
    return file;
  };

  /** E_BACKEND, one line with EC2's reason. */
  const apiError = (err: unknown, doing: string): TroupeError =>
    isTroupeError(err) ? err : cloudError("ec2", doing, classifyEc2Error(err));

  return {
    type: "ec2",
    allocateConcurrency: CLOUD_ALLOCATE_CONCURRENCY,

    async check(systems?: readonly System[]): Promise<void> {
      settingsOf();
      const mine = (systems ?? backend.systems).filter((s) => s.backend === backend.name);
      const list = mine.map(configOf);
      const { DescribeRegionsCommand } = await loadEc2Sdk();
      const fallback = await configuredRegion();
      const missing = list.find((c) => !c.region && !fallback);
      if (missing) {
        throw new TroupeError(
          "E_BACKEND",
          `ec2: ${missing.label}: no region: set location: in the backend (e.g. location: eu-west-1), or AWS_REGION`,
        );
      }
      // The list of regions, asked where every account may ask: credentials and the endpoint are checked on the way.
      let regions: string[];
      try {
        const out = await (await ec2Client(fallback ?? "us-east-1")).send(new DescribeRegionsCommand({ AllRegions: true }));
        regions = (out.Regions ?? []).map((r) => r.RegionName ?? "").filter(Boolean);
      } catch (err) {
        throw apiError(err, "cannot reach the EC2 API");
      }
      for (const c of list) {
        const region = c.region ?? fallback!;
        if (regions.length > 0 && !regions.includes(region)) {
          throw new TroupeError("E_BACKEND", `ec2: ${c.label}: unknown region ${region} (EC2 has: ${regions.sort().join(", ")})`);
        }
      }
      for (const c of list) {
        try {
          await imageOf(c);
        } catch (err) {
          throw apiError(err, `${c.label}: cannot look up image ${c.image}`);
        }
      }
    },

    async allocate(system: System, index: number, hint?: AllocateOptions): Promise<Host> {
      if (ctx.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted");
      const config = configOf(system);
      const timeoutMs = cloudSettings(backend, ctx.cloudGuards ?? {}, system).bootTimeoutMs;
      const name = await claimHostName({
        runDir: ctx.runDir,
        backend: backend.name,
        system: system.name,
        index,
        ...(hint?.name ? { wanted: hint.name } : {}),
        sanitize: hostnameFor,
      });
      const { file, privateKey } = await runKey();
      const f = await fleetOf();
      const { machine, reached } = await f.allocate(system, name, (m, signal) =>
        reachCloudHost({
          name,
          address: m.address,
          user: config.username,
          identityFile: config.identityFile ?? file,
          knownHostsFile: join(resolve(ctx.runDir, "hosts"), name, "known_hosts"),
          timeoutMs,
          signal,
          events: ctx.events,
        }).then((conn) => intoExperiment(conn, system, { name, timeoutMs, signal })),
      );
      return hostOf(name, system, machine, reached.transport, config.identityFile === undefined ? privateKey : undefined);
    },

    ...fleetHostMethods("ec2", () => fleet),

    // -reuse: see the top of the file.
    async reuse(system: System, recorded: RecordedHost, purpose: "run" | "discard"): Promise<Host | undefined> {
      const id = recorded.data?.["id"];
      if (typeof id !== "string") return undefined;
      const config = configOf(system);
      const region = recorded.data?.["region"];
      const at = { ...config, ...(typeof region === "string" ? { region } : {}) };
      const key = recorded.data?.["key"];
      const provider = await providerOf();
      return takeBack({
        type: "ec2",
        fleet: await fleetOf(),
        recorded,
        system,
        purpose,
        find: async () => {
          try {
            return await provider.find(id, at, ctx.signal);
          } catch (err) {
            throw apiError(err, `cannot look up instance ${id}`);
          }
        },
        connect: async (machine) => {
          const identityFile = config.identityFile ?? (typeof key === "string" ? await recordedKey(recorded.name, key) : undefined);
          if (!identityFile)
            throw new TroupeError("E_BACKEND", `ec2: ${recorded.name} (${id}) was recorded without the key that lets root in`);
          const timeoutMs = cloudSettings(backend, ctx.cloudGuards ?? {}, system).bootTimeoutMs;
          const signal = ctx.signal ? { signal: ctx.signal } : {};
          const reached = await reachCloudHost({
            name: recorded.name,
            address: machine.address,
            user: config.username,
            identityFile,
            knownHostsFile: join(resolve(ctx.runDir, "hosts"), recorded.name, "known_hosts"),
            timeoutMs,
            ...signal,
            events: ctx.events,
          });
          return intoExperiment(reached, system, { name: recorded.name, timeoutMs, ...signal });
        },
        hostOf: (machine, transport) =>
          hostOf(recorded.name, system, machine, transport, purpose === "run" && typeof key === "string" ? key : undefined),
      });
    },
  };
}
