// The google backend, with Spread's semantics (spread/google.go): each host
// is a Compute Engine instance made through the REST API, booted from the
// system's image with a startup script that lets root log in with the
// session's password, ready when the script's marker shows on the third
// serial port, reached over SSH as root with that password, deleted on
// discard. Beyond Spread: troupe's owner labels (gc/owner.ts), a lifetime
// GCE enforces itself (the cloud lifetime, from halt-timeout and max-hours,
// as scheduling.maxRunDuration with DELETE), so that an instance outlives a
// lost troupe by that long at most, and the fleet code every cloud backend
// shares (cloud/fleet.ts: max-hosts, the partial policy, bounded API calls,
// backoff, every instance deleted when the run ends). With -reuse,
// instances are kept for later runs (labelled without their troupe process,
// so gc leaves them until their halt time, which GCE enforces anyway) and
// taken back by the next run, which logs in with the recorded password.
//
// Keys: see settings.ts and cloud/settings.ts; credentials: see credentials.ts.

import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import type { Backend, System } from "../../model/project.js";
import { TroupeError, isTroupeError } from "../../util/errors.js";
import { errorText } from "../../util/text.js";
import type { AllocateOptions, BackendContext, BackendDriver, Host, RecordedHost } from "../backend.js";
import { claimHostName } from "../host-names.js";
import { hostnameFor } from "../lab/layout.js";
import type { Connected } from "../ssh/connect.js";
import { loginToMachine } from "../ssh/machine-login.js";
import { cloudError, type CloudFailure } from "../cloud/errors.js";
import {
  CLOUD_ALLOCATE_CONCURRENCY,
  CloudFleet,
  fleetHostMethods,
  takeBack,
  type CloudMachine,
  type CloudProvider,
} from "../cloud/fleet.js";
import { cloudLabels } from "../cloud/owner.js";
import { experimentData, experimentImage, intoExperiment } from "../cloud/experiment.js";
import { cloudSettings, type CloudSettings } from "../cloud/settings.js";
import { ComputeApi, GoogleApiError, isNotFound, isQuotaError, type Operation } from "./api.js";
import { findCredentials } from "./credentials.js";
import { resolveImage } from "./images.js";
import { evaluatedKey, hostEvaluated } from "./key.js";
import { instanceAddress, instanceBody, instanceName, spreadLabels, type InstanceData } from "./instance.js";
import { waitForMarker } from "./serial.js";
import { googleLifetime, googleLocation, googleSystemConfig, type GoogleLocation, type GoogleSystemConfig } from "./settings.js";

export interface GoogleDriverOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where gcloud's configuration is looked for (default: the user's home). */
  readonly home?: string;
}

interface Instance extends CloudMachine {
  /** The instance's name (Spread's format). */
  readonly id: string;
  readonly address: string;
}

/** The user Spread's `owner` label names. */
function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "unknown");
  }
}

/** A Compute API error sorted for the fleet (by status and Google's reason, never by message). */
export function classifyGoogle(err: unknown): CloudFailure {
  if (isTroupeError(err))
    return { kind: err.code === "E_BACKEND" && /cannot reach/.test(err.message) ? "unreachable" : "other", reason: err.message };
  if (!(err instanceof GoogleApiError)) return { kind: "other", reason: errorText(err) };
  const f = (kind: CloudFailure["kind"]): CloudFailure => ({ kind, code: err.reason, reason: err.message });
  if (err.status === 429 || /ratelimit/i.test(err.reason)) return f("throttle");
  if (/ZONE_RESOURCE_POOL_EXHAUSTED|stockout|capacity/i.test(err.reason)) return f("capacity");
  if (isQuotaError(err)) return f("quota");
  if (err.status === 401) return f("credentials");
  if (err.status === 403) return f("permission");
  if (isNotFound(err)) return f("not-found");
  if (err.status >= 500) return f("transient");
  return f("other");
}

/** One line for an API failure outside the fleet, with Google's reason. */
export function apiFailure(what: string, err: unknown): TroupeError {
  if (isTroupeError(err)) return err;
  return cloudError("google", what, classifyGoogle(err));
}

export function createGoogleDriver(backend: Backend, ctx: BackendContext, options: GoogleDriverOptions = {}): BackendDriver {
  const env = options.env ?? process.env;
  const hostsDir = resolve(ctx.runDir, "hosts");
  const password = ctx.password ?? randomBytes(12).toString("base64url");
  const images = new Map<string, Promise<string>>();
  let api: ComputeApi | undefined;
  let where: GoogleLocation | undefined;
  let fleet: CloudFleet<Instance, Connected> | undefined;

  const location = (): GoogleLocation => (where ??= googleLocation(backend, hostEvaluated(backend, "location", ctx.projectDir)));
  const settings = (system?: System): CloudSettings => googleLifetime(backend, cloudSettings(backend, ctx.cloudGuards ?? {}, system));
  const compute = (): ComputeApi =>
    (api ??= new ComputeApi({
      credentials: findCredentials({
        key: evaluatedKey(backend, ctx.projectDir),
        baseDir: ctx.projectDir,
        env,
        ...(options.home ? { home: options.home } : {}),
      }),
      env,
      concurrency: settings().apiConcurrency * 4,
    }));
  const zonePath = (): string => `projects/${location().project}/zones/${location().zone}`;

  /** The system's sourceImage, looked up once per image. */
  const imageOf = (image: string): Promise<string> => {
    let p = images.get(image);
    if (!p) {
      p = resolveImage(compute(), image, location().project);
      images.set(image, p);
      p.catch(() => images.delete(image));
    }
    return p;
  };

  /** Delete an instance and wait until it is gone; gone already is fine. Not interruptible: an interrupted run still deletes. */
  async function deleteInstance(name: string): Promise<void> {
    try {
      const op = await compute().call<Operation>("DELETE", `${zonePath()}/instances/${name}`);
      await compute().wait(location().zone, location().project, op);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** One instance, running, with its address; `created` hears of it as soon as GCE has it. */
  async function insertOne(
    system: System,
    config: GoogleSystemConfig,
    sourceImage: string,
    haltAt: Date,
    signal: AbortSignal,
    created: (m: readonly Pick<Instance, "id">[]) => void,
  ): Promise<Instance> {
    const lifetimeMs = settings().lifetimeMs;
    const labels = {
      ...spreadLabels(userName(), ctx.keepHosts === true, lifetimeMs),
      ...cloudLabels(ctx.runId, haltAt, ctx.keepHosts === true),
    };
    for (let attempt = 1; ; attempt++) {
      const name = instanceName();
      const body = instanceBody({
        name,
        zone: location().zone,
        project: location().project,
        config,
        sourceImage,
        password,
        labels,
        lifetimeMs,
        ...(experimentImage(system) !== undefined ? { experimentImage: experimentImage(system)! } : {}),
      });
      let op: Operation;
      try {
        op = await compute().call<Operation>("POST", `${zonePath()}/instances`, body, signal);
      } catch (err) {
        // Another troupe or Spread took the name this very microsecond.
        if (err instanceof GoogleApiError && err.status === 409 && attempt < 5) continue;
        throw err;
      }
      created([{ id: name }]);
      await compute().wait(location().zone, location().project, op, signal);
      const data = await compute().call<InstanceData>("GET", `${zonePath()}/instances/${name}`, undefined, signal);
      const address = instanceAddress(data);
      if (!address) throw new TroupeError("E_BACKEND", `google: instance ${name} has no address`);
      return { id: name, address };
    }
  }

  const provider: CloudProvider<Instance> = {
    type: "google",
    async create(request, created) {
      const config = googleSystemConfig(backend, request.system);
      const sourceImage = await imageOf(config.image);
      const results = await Promise.allSettled(
        request.names.map(() => insertOne(request.system, config, sourceImage, request.haltAt, request.signal, created)),
      );
      const up = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      // All or none (partial: fail), or none came up: what Google said of the first that failed.
      if (failed && (up.length === 0 || request.all)) throw failed.reason;
      return up;
    },
    async destroy(ids) {
      await Promise.all(ids.map((id) => deleteInstance(id)));
    },
    classify: classifyGoogle,
  };

  const fleetNow = (): CloudFleet<Instance, Connected> =>
    (fleet ??= new CloudFleet<Instance, Connected>({
      provider,
      settings: settings(),
      events: ctx.events,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    }));

  /** Take the startup script (it holds the password) out of the metadata once it has run. */
  async function dropStartupScript(name: string, signal: AbortSignal): Promise<void> {
    const i = await compute().call<InstanceData>("GET", `${zonePath()}/instances/${name}`, undefined, signal);
    const items = i.metadata?.items ?? [];
    if (!items.some((m) => m.key === "startup-script")) return;
    const op = await compute().call<Operation>(
      "POST",
      `${zonePath()}/instances/${name}/setMetadata`,
      { fingerprint: i.metadata?.fingerprint, items: items.filter((m) => m.key !== "startup-script") },
      signal,
    );
    await compute().wait(location().zone, location().project, op, signal);
  }

  /** Root logged in with `secret`, the host's own known_hosts in the run directory. */
  async function login(name: string, m: Instance, secret: string, signal?: AbortSignal): Promise<Connected> {
    const dir = join(hostsDir, name);
    await mkdir(dir, { recursive: true });
    return loginToMachine({
      name,
      address: m.address,
      user: "root",
      password: secret,
      knownHostsFile: join(dir, "known_hosts"),
      events: ctx.events,
      ...(signal ? { signal } : {}),
    });
  }

  const hostOf = (name: string, system: System, m: Instance, transport: Host["transport"]): Host => ({
    name,
    address: m.address,
    backend: backend.name,
    system: system.name,
    transport,
    projectPath: ctx.remotePath,
    data: { instance: m.id, project: location().project, zone: location().zone, ...experimentData(system) },
  });

  /** Ready (the startup script's marker), the password out of the metadata, root logged in. */
  async function reach(name: string, system: System, m: Instance, signal: AbortSignal): Promise<Connected> {
    ctx.events.message("info", `google: ${name} is instance ${m.id} at ${m.address} (${location().zone})`);
    await waitForMarker(compute(), `${zonePath()}/instances/${m.id}`, {
      timeoutMs: settings(system).bootTimeoutMs,
      label: `${name} (${m.id})`,
      signal,
    });
    await dropStartupScript(m.id, signal);
    const conn = await login(name, m, password, signal);
    return intoExperiment(conn, system, { name, timeoutMs: settings(system).bootTimeoutMs, signal });
  }

  return {
    type: "google",
    allocateConcurrency: CLOUD_ALLOCATE_CONCURRENCY,

    async check(systems?: readonly System[]): Promise<void> {
      const { project, zone } = location();
      const mine = (systems ?? backend.systems).filter((s) => s.backend === backend.name);
      settings();
      for (const s of mine) {
        googleSystemConfig(backend, s);
        settings(s);
      }
      try {
        await compute().call("GET", `projects/${project}/zones/${zone}`, undefined, ctx.signal);
      } catch (err) {
        if (isNotFound(err))
          throw new TroupeError("E_BACKEND", `google: project ${project} has no zone ${zone} (${(err as GoogleApiError).message})`);
        throw apiFailure(`cannot use project ${project} with ${compute().credentials.describe}`, err);
      }
      for (const image of new Set(mine.map((s) => s.image))) {
        try {
          await imageOf(image);
        } catch (err) {
          throw apiFailure(`cannot look up image ${image}`, err);
        }
      }
    },

    async allocate(system: System, index: number, hint?: AllocateOptions): Promise<Host> {
      if (ctx.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted");
      const name = await claimHostName({
        runDir: ctx.runDir,
        backend: backend.name,
        system: system.name,
        index,
        ...(hint?.name ? { wanted: hint.name } : {}),
        sanitize: hostnameFor,
      });
      const { machine, reached: conn } = await fleetNow().allocate(system, name, (m, signal) => reach(name, system, m, signal));
      return hostOf(name, system, machine, conn.transport);
    },

    ...fleetHostMethods("google", () => fleet),

    // -reuse: see the top of the file.
    async reuse(system: System, recorded: RecordedHost, purpose: "run" | "discard"): Promise<Host | undefined> {
      const id = recorded.data?.["instance"];
      if (typeof id !== "string") return undefined;
      const { project, zone } = location();
      const was = { project: recorded.data?.["project"], zone: recorded.data?.["zone"] };
      if (was.project !== project || was.zone !== zone) {
        throw new TroupeError(
          "E_BACKEND",
          `google: ${recorded.name} (${id}) is in ${String(was.project)}/${String(was.zone)}, and backend ${backend.name} now uses ${project}/${zone}; ` +
            `discard it with the location it was made in`,
        );
      }
      return takeBack({
        type: "google",
        fleet: fleetNow(),
        recorded,
        system,
        purpose,
        find: async () => {
          let data: InstanceData;
          try {
            data = await compute().call<InstanceData>("GET", `${zonePath()}/instances/${id}`, undefined, ctx.signal);
          } catch (err) {
            if (isNotFound(err)) return undefined;
            throw apiFailure(`cannot look up instance ${id}`, err);
          }
          const address = instanceAddress(data);
          // Stopping, stopped (its lifetime's end, DELETE under way): gone for a run.
          return data.status === "RUNNING" && address ? { id, address } : undefined;
        },
        connect: async (machine) =>
          intoExperiment(await login(recorded.name, machine, recorded.password ?? password, ctx.signal), system, {
            name: recorded.name,
            timeoutMs: settings(system).bootTimeoutMs,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          }),
        hostOf: (machine, transport) => hostOf(recorded.name, system, machine, transport),
      });
    },
  };
}
