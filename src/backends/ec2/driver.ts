// The ec2 backend: hosts are EC2 instances, made through the fleet
// (cloud/fleet.ts: batched RunInstances, bounded API calls, backoff,
// partial policy, max-hosts), each with a lifetime it enforces itself
// (user-data's shutdown timer, InstanceInitiatedShutdownBehavior=terminate)
// and troupe's tags, reached over SSH with the run's own key (or the
// system's key pair), terminated on discard and when the run ends however
// it ends. Keys: see config.ts and cloud/settings.ts.

import { join, resolve } from "node:path";
import type { Backend, System } from "../../model/project.js";
import { TroupeError, isTroupeError } from "../../util/errors.js";
import type { AllocateOptions, BackendContext, BackendDriver, Host } from "../backend.js";
import { claimHostName } from "../host-names.js";
import { hostnameFor } from "../lab/layout.js";
import type { Connected } from "../ssh/connect.js";
import { bootScript } from "../cloud/boot-script.js";
import { cloudError } from "../cloud/errors.js";
import { CLOUD_ALLOCATE_CONCURRENCY, CloudFleet } from "../cloud/fleet.js";
import { cloudLabels } from "../cloud/owner.js";
import { cloudSettings, lifetimeMinutes, type CloudSettings } from "../cloud/settings.js";
import { makeRunKey, reachCloudHost, type RunKey } from "../cloud/ssh.js";
import { classifyEc2Error, configuredRegion, ec2Client, loadEc2Sdk } from "./client.js";
import { ec2SystemConfig, type Ec2SystemConfig } from "./config.js";
import { ec2Provider, resolveImage, type Ec2Machine, type ResolvedImage } from "./provider.js";

export interface Ec2DriverOptions {
  /** For tests: told the instance ids of each RunInstances call as soon as EC2 answers. */
  readonly onCreated?: (ids: readonly string[]) => void;
}

interface Live {
  readonly machine: Ec2Machine;
  readonly conn: Connected;
}

export function createEc2Driver(backend: Backend, ctx: BackendContext, options: Ec2DriverOptions = {}): BackendDriver {
  const configs = new Map<string, Ec2SystemConfig>();
  const images = new Map<string, Promise<ResolvedImage>>();
  const open = new Map<string, Live>();
  let settings: CloudSettings | undefined;
  let key: Promise<RunKey> | undefined;
  let fleet: CloudFleet<Ec2Machine> | undefined;

  const configOf = (system: System): Ec2SystemConfig => {
    let c = configs.get(system.name);
    if (!c) configs.set(system.name, (c = ec2SystemConfig(backend, system)));
    return c;
  };
  const settingsOf = (): CloudSettings => (settings ??= cloudSettings(backend, ctx.cloudGuards ?? {}));
  const runKey = (): Promise<RunKey> =>
    (key ??= makeRunKey(resolve(ctx.runDir, "ec2", hostnameFor(backend.name)), `troupe-${ctx.runId ?? "run"}`));

  const imageOf = (config: Ec2SystemConfig): Promise<ResolvedImage> => {
    let p = images.get(config.label);
    if (!p) {
      p = ec2Client(config.region).then((c) => resolveImage(c, config));
      images.set(config.label, p);
      p.catch(() => images.delete(config.label));
    }
    return p;
  };

  /** The user-data of a system's instances: the run key for root unless the system logs in with its key pair, and the shutdown timer. */
  const userData = (config: Ec2SystemConfig, publicKey: string): string =>
    bootScript({
      publicKey,
      lifetimeMinutes: lifetimeMinutes(settingsOf()),
      ...(config.username !== "root" ? { user: config.username } : {}),
    });

  const fleetOf = async (): Promise<CloudFleet<Ec2Machine>> => {
    if (fleet) return fleet;
    const { publicKey } = await runKey();
    fleet ??= new CloudFleet<Ec2Machine>({
      provider: ec2Provider({
        config: configOf,
        image: imageOf,
        labels: (haltAt) => cloudLabels(ctx.runId, haltAt),
        userData: (config) => userData(config, publicKey),
        extraTags: { "troupe-backend": hostnameFor(backend.name) },
      }),
      settings: settingsOf(),
      events: ctx.events,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(options.onCreated ? { onCreated: options.onCreated } : {}),
    });
    return fleet;
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
      const { file } = await runKey();
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
        }),
      );
      const host: Host = {
        name,
        address: machine.address,
        backend: backend.name,
        system: system.name,
        transport: reached.transport,
        projectPath: ctx.remotePath,
        data: {
          id: machine.id,
          ...(machine.region ? { region: machine.region } : {}),
          ...(machine.privateAddress ? { privateAddress: machine.privateAddress } : {}),
        },
      };
      open.set(name, { machine, conn: reached });
      return host;
    },

    async discard(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (!live) return;
      open.delete(host.name);
      await live.conn.close().catch(() => undefined);
      await fleet?.release(live.machine.id);
    },

    async close(): Promise<void> {
      const all = [...open.values()];
      open.clear();
      await Promise.all(all.map((l) => l.conn.close().catch(() => undefined)));
      await fleet?.close();
    },
  };
}
