// The docker backend: each host is a container of the system's image,
// created through the Engine API with troupe's owner labels (gc/owner.ts),
// kept up by a small init running `sleep infinity`, reached through the
// engine's exec (exec-transport.ts) or, with `transport: ssh`, over SSH
// (ssh.ts). Keys: options.ts. Discarding removes the container (forced);
// containers still held when the process exits are removed then, and those
// of a process killed outright by `troupe gc` (gc.ts).
//
// REBOOT is not supported: a container has no kernel to restart, and
// `docker restart` would end every process without running the image's
// shutdown, which is not what a script that reboots tests.

import { createReadStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Backend, System } from "../../model/project.js";
import { currentOwner, LABEL_PROCESS, ownerLabels } from "../../gc/owner.js";
import type { Bundle } from "../../transfer/bundle.js";
import type { Transport } from "../../transport/transport.js";
import { TroupeError } from "../../util/errors.js";
import { errorText } from "../../util/text.js";
import type { AllocateOptions, BackendContext, BackendDriver, Host, RecordedHost } from "../backend.js";
import { claimHostName } from "../host-names.js";
import {
  addressOf,
  inspectContainer,
  LABEL_BACKEND,
  LABEL_HOST,
  LABEL_SYSTEM,
  missingImage,
  removeContainer,
  removeContainersSync,
  shownName,
  type ContainerInspect,
} from "./containers.js";
import { API_VERSION, DockerApi, DockerApiError } from "./engine-api.js";
import { DockerExecTransport } from "./exec-transport.js";
import { containerName, createBody, dockerOptions, type DockerOptions } from "./options.js";
import { ExitSweep, keysByValue } from "../../util/exit-sweep.js";

interface Live {
  readonly id: string;
  readonly host: Host;
  readonly transport: Transport;
  /** The engine's exec, whatever the host's transport is. */
  readonly exec: DockerExecTransport;
  /** The working directory the container was made with, which the engine made. */
  readonly workdir?: string;
}

/** Containers of every docker driver of this process, removed at exit should any be left. */
const liveEverywhere = new ExitSweep<DockerApi>((left) => {
  for (const [api, ids] of keysByValue(left)) removeContainersSync(api.endpoint, API_VERSION, ids);
});

export function createDockerDriver(backend: Backend, ctx: BackendContext, api: DockerApi = new DockerApi()): BackendDriver {
  const open = new Map<string, Live>();
  const kept = new Set<string>();
  const hostsDir = resolve(ctx.runDir, "hosts");

  function labels(system: System, name: string): Record<string, string> {
    const l: Record<string, string> = {
      ...ownerLabels(currentOwner(ctx.runId)),
      [LABEL_BACKEND]: backend.name,
      [LABEL_SYSTEM]: system.name,
      [LABEL_HOST]: name,
    };
    // Kept for later runs (-reuse): no process to outlive, so gc leaves it (labels cannot change later).
    if (ctx.keepHosts) delete l[LABEL_PROCESS];
    return l;
  }

  async function transportFor(
    o: DockerOptions,
    c: ContainerInspect,
    name: string,
  ): Promise<{ transport: Transport; exec: DockerExecTransport }> {
    const exec = new DockerExecTransport(api, c.Id, name);
    if (o.transport !== "ssh") return { transport: exec, exec };
    const { sshTransport } = await import("./ssh.js");
    return { transport: await sshTransport(exec, addressOf(c), name), exec };
  }

  function hostOf(system: System, name: string, c: ContainerInspect, transport: Transport): Host {
    return {
      name,
      address: addressOf(c),
      backend: backend.name,
      system: system.name,
      transport,
      projectPath: ctx.remotePath,
      data: { id: c.Id, container: shownName(c) },
    };
  }

  function track(live: Live): void {
    open.set(live.host.name, live);
    if (kept.has(live.host.name)) return;
    liveEverywhere.set(live.id, api);
  }

  async function letGo(live: Live): Promise<void> {
    open.delete(live.host.name);
    liveEverywhere.delete(live.id);
    await live.transport.close().catch(() => undefined);
  }

  async function destroy(id: string): Promise<void> {
    liveEverywhere.set(id, api); // until it is gone, should the process exit meanwhile
    await removeContainer(api, id);
    liveEverywhere.delete(id);
  }

  async function create(o: DockerOptions, system: System, name: string): Promise<string> {
    try {
      const r = await api.json<{ Id: string }>("POST", "/containers/create", `creating a container of ${o.image}`, {
        query: { name: containerName(ctx.runId, name) },
        json: createBody(o, name, labels(system, name), ctx.remotePath),
      });
      return r.Id;
    } catch (err) {
      if (err instanceof DockerApiError && err.status === 404 && /no such image/i.test(err.engineMessage))
        throw missingImage(o.image, api.display);
      if (err instanceof DockerApiError) throw new TroupeError("E_BACKEND", err.message);
      throw err;
    }
  }

  return {
    type: "docker",

    async check(systems?: readonly System[]): Promise<void> {
      await api.ping(ctx.signal);
      // The images of the systems the run uses (a scenario group's image: among them), else of all of them.
      const used = (systems ?? backend.systems).filter((s) => s.backend === backend.name);
      const images = new Set(used.map((s) => dockerOptions(backend, s).image));
      await Promise.all(
        [...images].map(async (image) => {
          try {
            await api.json("GET", `/images/${encodeURIComponent(image)}/json`, `looking up image ${image}`);
          } catch (err) {
            if (err instanceof DockerApiError && err.status === 404) throw missingImage(image, api.display);
            throw err;
          }
        }),
      );
    },

    async allocate(system: System, index: number, hint?: AllocateOptions): Promise<Host> {
      const o = dockerOptions(backend, system);
      const name = await claimHostName({
        runDir: ctx.runDir,
        backend: backend.name,
        system: system.name,
        index,
        ...(hint?.name !== undefined ? { wanted: hint.name } : {}),
        sanitize: (n) => n.replace(/[^a-zA-Z0-9_.-]/g, "-"),
      });
      const id = await create(o, system, name);
      liveEverywhere.set(id, api);
      try {
        await api.json("POST", `/containers/${id}/start`, `starting container ${containerName(ctx.runId, name)}`);
        const c = await inspectContainer(api, id);
        if (!c?.State.Running)
          throw new TroupeError(
            "E_BACKEND",
            `docker: container ${containerName(ctx.runId, name)} stopped at once (${c?.State.Status ?? "gone"})`,
          );
        const { transport, exec } = await transportFor(o, c, name);
        const host = hostOf(system, name, c, transport);
        track({ id, host, transport, exec, ...(o.init === "docker" && ctx.remotePath.startsWith("/") ? { workdir: ctx.remotePath } : {}) });
        return host;
      } catch (err) {
        await destroy(id).catch(() => undefined);
        if (err instanceof DockerApiError) {
          const hint =
            o.privileged && /resource|permission|operation not permitted/i.test(err.engineMessage)
              ? " (privileged containers need CAP_SYS_RESOURCE, which this machine lacks: list the capabilities you need under `capabilities:` instead)"
              : "";
          throw new TroupeError("E_BACKEND", `${err.message}${hint}`);
        }
        throw err;
      }
    },

    /**
     * The project in one archive request: a container of ours starts in the
     * project's directory (its working directory), which the engine made.
     */
    async pushProject(host: Host, bundle: Bundle): Promise<void> {
      const live = open.get(host.name);
      if (!live) throw new TroupeError("E_BACKEND", `docker: cannot send the project to ${host.name}: not a host of this run`);
      await live.exec.put(createReadStream(bundle.path), host.projectPath, { exists: live.workdir === host.projectPath });
    },

    async discard(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (live) {
        await letGo(live);
        kept.delete(host.name);
        await destroy(live.id);
        return;
      }
      // Not ours (any more): remove the container the host names, if it is still there.
      await host.transport.close().catch(() => undefined);
      const id = host.data?.["id"];
      if (typeof id === "string") await destroy(id);
    },

    async reuse(system: System, recorded: RecordedHost, purpose: "run" | "discard"): Promise<Host | undefined> {
      const id = recorded.data?.["id"];
      if (typeof id !== "string") return undefined;
      let c = await inspectContainer(api, id);
      if (!c) return undefined;
      if (open.has(recorded.name)) throw new TroupeError("E_BACKEND", `docker: ${recorded.name} is already a host of this run`);
      await mkdir(join(hostsDir, recorded.name), { recursive: true });
      if (purpose === "run" && !c.State.Running) {
        ctx.events.message("info", `docker: ${recorded.name} is stopped; starting it again`);
        await api.json("POST", `/containers/${id}/start`, `starting container ${shownName(c)}`);
        c = (await inspectContainer(api, id)) ?? c;
      }
      const o = dockerOptions(backend, system);
      const exec = new DockerExecTransport(api, c.Id, recorded.name);
      const transport = purpose === "run" ? (await transportFor(o, c, recorded.name)).transport : exec;
      const host = hostOf(system, recorded.name, c, transport);
      // A container made with -reuse outlives this process; one made without it is this run's to remove.
      if (c.Config.Labels?.[LABEL_PROCESS] === undefined) kept.add(host.name);
      track({ id: c.Id, host, transport, exec });
      return host;
    },

    async keep(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (!live) throw new TroupeError("E_BACKEND", `docker: cannot keep ${host.name}: not a host of this run`);
      kept.add(host.name);
      liveEverywhere.delete(live.id);
    },

    keeps(host: Host): boolean {
      return kept.has(host.name);
    },

    async release(host: Host): Promise<void> {
      const live = open.get(host.name);
      if (live) await letGo(live);
    },

    async close(): Promise<void> {
      await Promise.all(
        [...open.values()].map(async (live) => {
          if (kept.has(live.host.name)) return letGo(live);
          await letGo(live);
          await destroy(live.id).catch((err: unknown) =>
            ctx.events.message("warn", `docker: could not remove container ${String(live.host.data?.["container"])}: ${errorText(err)}`),
          );
        }),
      );
    },
  };
}
