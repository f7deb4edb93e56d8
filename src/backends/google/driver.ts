// The google backend, with Spread's semantics (spread/google.go): each host
// is a Compute Engine instance made through the REST API, booted from the
// system's image with a startup script that lets root log in with the
// session's password, ready when the script's marker shows on the third
// serial port, reached over SSH as root with that password, deleted on
// discard. Beyond Spread: troupe's owner labels (gc/owner.ts) and a lifetime
// GCE enforces itself (halt-timeout as scheduling.maxRunDuration, with
// DELETE), so that an instance outlives a lost troupe by that long at most.
//
// Keys: see settings.ts; credentials: see credentials.ts.

import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import type { Backend, System } from "../../model/project.js";
import { currentOwner, ownerLabels } from "../../gc/owner.js";
import { TroupeError, isTroupeError } from "../../util/errors.js";
import { errorText } from "../../util/text.js";
import type { AllocateOptions, BackendContext, BackendDriver, Host } from "../backend.js";
import { claimHostName } from "../host-names.js";
import { hostnameFor } from "../lab/layout.js";
import type { Connected } from "../ssh/connect.js";
import { loginToMachine } from "../ssh/machine-login.js";
import { ComputeApi, GoogleApiError, isNotFound, isQuotaError, type Operation } from "./api.js";
import { findCredentials } from "./credentials.js";
import { resolveImage } from "./images.js";
import { evaluatedKey } from "./key.js";
import { instanceAddress, instanceBody, instanceName, spreadLabels, type InstanceData } from "./instance.js";
import { waitForMarker } from "./serial.js";
import { googleLocation, googleSystemConfig, haltTimeoutMs, type GoogleLocation } from "./settings.js";

export interface GoogleDriverOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where gcloud's configuration is looked for (default: the user's home). */
  readonly home?: string;
}

interface Live {
  readonly host: Host;
  readonly instance: string;
  conn?: Connected;
}

/** The user Spread's `owner` label names. */
function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "unknown");
  }
}

/** One line for an API failure, with Google's reason. */
export function apiFailure(what: string, err: unknown): TroupeError {
  if (isTroupeError(err)) return err;
  if (err instanceof GoogleApiError) {
    const kind = isQuotaError(err) ? "out of quota or capacity: " : err.status === 403 ? "permission denied: " : "";
    return new TroupeError("E_BACKEND", `google: ${what}: ${kind}${err.message} (${err.reason})`);
  }
  return new TroupeError("E_BACKEND", `google: ${what}: ${errorText(err)}`);
}

export function createGoogleDriver(backend: Backend, ctx: BackendContext, options: GoogleDriverOptions = {}): BackendDriver {
  const env = options.env ?? process.env;
  const hostsDir = resolve(ctx.runDir, "hosts");
  const password = ctx.password ?? randomBytes(12).toString("base64url");
  const open = new Map<string, Live>();
  /** Instances inserted and not yet deleted, by name: close() deletes what discard did not. */
  const made = new Set<string>();
  const images = new Map<string, Promise<string>>();
  let api: ComputeApi | undefined;
  let where: GoogleLocation | undefined;

  const location = (): GoogleLocation => (where ??= googleLocation(backend));
  const compute = (): ComputeApi =>
    (api ??= new ComputeApi({
      credentials: findCredentials({
        key: evaluatedKey(backend, ctx.projectDir),
        baseDir: ctx.projectDir,
        env,
        ...(options.home ? { home: options.home } : {}),
      }),
      env,
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

  /** Delete an instance and wait until it is gone; gone already is fine. */
  async function deleteInstance(name: string): Promise<void> {
    try {
      // Not interruptible: an interrupted run still deletes what it made.
      const op = await compute().call<Operation>("DELETE", `${zonePath()}/instances/${name}`);
      await compute().wait(location().zone, location().project, op);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    made.delete(name);
  }

  /** Insert, trying new names while another process holds the one picked. */
  async function insert(config: ReturnType<typeof googleSystemConfig>, sourceImage: string): Promise<string> {
    const lifetimeMs = haltTimeoutMs(backend);
    const haltAt = lifetimeMs !== undefined ? new Date(Date.now() + lifetimeMs) : undefined;
    const labels = { ...spreadLabels(userName(), ctx.keepHosts === true, lifetimeMs), ...ownerLabels(currentOwner(ctx.runId), haltAt) };
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
        ...(lifetimeMs !== undefined ? { lifetimeMs } : {}),
      });
      let op: Operation;
      try {
        op = await compute().call<Operation>("POST", `${zonePath()}/instances`, body, ctx.signal);
      } catch (err) {
        if (err instanceof GoogleApiError && err.status === 409 && attempt < 5) continue;
        throw apiFailure(`cannot allocate an instance of type ${config.plan} for ${config.label} in ${location().zone}`, err);
      }
      made.add(name);
      try {
        await compute().wait(location().zone, location().project, op, ctx.signal);
      } catch (err) {
        await deleteInstance(name).catch(() => undefined);
        throw apiFailure(`cannot allocate an instance of type ${config.plan} for ${config.label} in ${location().zone}`, err);
      }
      return name;
    }
  }

  /** Take the startup script (it holds the password) out of the metadata once it has run. */
  async function dropStartupScript(name: string): Promise<void> {
    const i = await compute().call<InstanceData>("GET", `${zonePath()}/instances/${name}`, undefined, ctx.signal);
    const items = i.metadata?.items ?? [];
    if (!items.some((m) => m.key === "startup-script")) return;
    const op = await compute().call<Operation>(
      "POST",
      `${zonePath()}/instances/${name}/setMetadata`,
      {
        fingerprint: i.metadata?.fingerprint,
        items: items.filter((m) => m.key !== "startup-script"),
      },
      ctx.signal,
    );
    await compute().wait(location().zone, location().project, op, ctx.signal);
  }

  return {
    type: "google",

    async check(systems?: readonly System[]): Promise<void> {
      const { project, zone } = location();
      haltTimeoutMs(backend);
      const mine = (systems ?? backend.systems).filter((s) => s.backend === backend.name);
      for (const s of mine) googleSystemConfig(backend, s);
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
      const config = googleSystemConfig(backend, system);
      const name = await claimHostName({
        runDir: ctx.runDir,
        backend: backend.name,
        system: system.name,
        index,
        ...(hint?.name ? { wanted: hint.name } : {}),
        sanitize: hostnameFor,
      });
      let sourceImage: string;
      try {
        sourceImage = await imageOf(config.image);
      } catch (err) {
        throw apiFailure(`cannot look up image ${config.image}`, err);
      }
      const instance = await insert(config, sourceImage);
      let conn: Connected | undefined;
      try {
        const data = await compute().call<InstanceData>("GET", `${zonePath()}/instances/${instance}`, undefined, ctx.signal);
        const address = instanceAddress(data);
        if (!address) throw new TroupeError("E_BACKEND", `google: instance ${instance} has no address`);
        ctx.events.message("info", `google: ${name} is instance ${instance} at ${address} (${config.plan}, ${location().zone})`);
        await waitForMarker(compute(), `${zonePath()}/instances/${instance}`, {
          timeoutMs: config.bootTimeoutMs,
          label: `${name} (${instance})`,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
        await dropStartupScript(instance);
        const dir = join(hostsDir, name);
        await mkdir(dir, { recursive: true });
        conn = await loginToMachine({
          name,
          address,
          user: "root",
          password,
          knownHostsFile: join(dir, "known_hosts"),
          events: ctx.events,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
        const host: Host = {
          name,
          address,
          backend: backend.name,
          system: system.name,
          transport: conn.transport,
          projectPath: ctx.remotePath,
          data: { instance, project: location().project, zone: location().zone },
        };
        open.set(name, { host, instance, conn });
        return host;
      } catch (err) {
        await conn?.close().catch(() => undefined);
        await deleteInstance(instance).catch(() => undefined);
        throw apiFailure(`cannot bring up instance ${instance} for ${config.label}`, err);
      }
    },

    async discard(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (!live) return;
      open.delete(host.name);
      await live.conn?.close().catch(() => undefined);
      try {
        await deleteInstance(live.instance);
      } catch (err) {
        throw apiFailure(`cannot delete instance ${live.instance}`, err);
      }
    },

    async close(): Promise<void> {
      const all = [...open.values()];
      open.clear();
      await Promise.all(all.map(async (l) => l.conn?.close().catch(() => undefined)));
      await Promise.all([...made].map((name) => deleteInstance(name).catch(() => undefined)));
    },
  };
}
