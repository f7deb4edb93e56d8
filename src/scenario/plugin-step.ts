// One step of a plugin job: its arguments rendered and read by the
// plugin's schema, then its `run` given a JobContext for the step's host,
// made of what every step uses (the script runner, URIs, copies,
// services). What `run` returns is `res` in the job's vars_updates.

import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { TroupeError } from "../util/errors.js";
import { findJobKind, unknownKindMessage } from "../plugins/registry.js";
import type { JobContext } from "../plugins/plugin.js";
import { shQuote } from "../exec/shell-quote.js";
import { DEFAULT_READY_TIMEOUT_MS } from "./plan.js";
import { renderArgs } from "./plugin-jobs.js";
import { execScript, placeOf, scriptFor, startService, type Capture, type StepInput } from "./steps.js";
import { copyPlace, hostPath } from "./transfer.js";
import type { RenderWhere } from "./template.js";
import type { ArgNode, Value } from "./types.js";

const URI = /^([A-Za-z0-9._-]+):\/\/([\s\S]*)$/;

export async function runPluginStep(
  input: StepInput,
  capture: Capture,
  where: RenderWhere,
  kindName: string,
  argsNode: ArgNode,
): Promise<Readonly<Record<string, Value>> | undefined> {
  const kind = findJobKind(kindName);
  if (!kind) throw new TroupeError("E_SCENARIO", unknownKindMessage(kindName));
  const raw = renderArgs(argsNode, input.scope, where);
  const parsed = kind.args.safeParse(raw);
  if (!parsed.success) {
    const what = parsed.error.issues.map((i) => `${[kindName, ...i.path].join(".")}: ${i.message}`).join("; ");
    throw new TroupeError("E_SCENARIO", `${kindName}: ${what}`);
  }
  const out = await kind.run(jobContext(input, capture, where), parsed.data);
  return out ?? undefined;
}

function jobContext(input: StepInput, capture: Capture, where: RenderWhere): JobContext {
  const { env, host } = input;
  const state = env.pluginState.get(host.name) ?? new Map<string, unknown>();
  env.pluginState.set(host.name, state);
  const sh = async (text: string): Promise<{ stdout: string; stderr: string }> => {
    const r = await execScript(input, await scriptFor(input, text, where), capture, input.job.timeoutMs);
    if (!r.ok) {
      if (r.stopped) throw new TroupeError("E_INTERRUPTED", "stopped");
      throw new Error(`${r.error ?? "failed"}`);
    }
    return { stdout: r.result.stdout, stderr: r.result.stderr };
  };
  const otherHost = (name: string) => {
    const h = env.hosts.get(name);
    if (!h) throw new Error(`${name}:// names no host of the scenario (hosts: ${[...env.hosts.keys()].join(", ")})`);
    return h;
  };
  const localPath = (uri: string): string => {
    const m = URI.exec(uri);
    if (m && m[1] !== "self" && m[1] !== host.name) throw new Error(`${uri}: a path on this host is needed here (self://PATH)`);
    return hostPath(host.dir, m ? m[2]! : uri);
  };
  return {
    host: { name: host.name, addr: host.host.address, dir: host.dir },
    job: input.name,
    signal: input.signal,
    state,
    sh,
    localPath,
    async file(uri, options = {}) {
      const m = URI.exec(uri);
      if (!m || m[1] === "self" || m[1] === host.name) return localPath(uri);
      const [, scheme, rest] = m as unknown as [string, string, string];
      if (scheme === "http" || scheme === "https") {
        const name = posix.basename(new URL(uri).pathname) || "download";
        const dest = options.keepName
          ? hostPath(host.dir, name)
          : hostPath(host.dir, `.troupe/fetch/${randomBytes(4).toString("hex")}/${name}`);
        await sh(
          `mkdir -p "$(dirname ${shQuote(dest)})"\n` +
            `if command -v curl >/dev/null 2>&1; then curl -fsSL -o ${shQuote(dest)} ${shQuote(uri)}; else wget -qO ${shQuote(dest)} ${shQuote(uri)}; fi`,
        );
        return dest;
      }
      // Another host's file: from the directory it serves (builtins.start_http_server), else its scenario directory.
      const owner = otherHost(scheme);
      const served = env.served.get(owner.name) ?? owner.dir;
      const from = placeOf(input, owner.name, hostPath(served, rest), where);
      const into = options.keepName ? `${host.dir}/` : hostPath(host.dir, `.troupe/uri/${randomBytes(4).toString("hex")}`) + "/";
      return copyPlace(from, { where: "host", host: host.name, transport: host.host.transport, path: into }, input.signal);
    },
    endpoint(uri) {
      const m = URI.exec(uri);
      if (!m || m[1] === "http" || m[1] === "https") return uri;
      const owner = m[1] === "self" ? host.name : otherHost(m[1]!).name;
      const name = /^[^/?#]*/.exec(m[2]!)![0];
      const endpoint = env.serviceLookup.endpoint(owner, name);
      if (endpoint === undefined) {
        const running = env.serviceLookup.running(owner);
        throw new Error(`${uri}: no service ${name} runs on ${owner}` + (running.length ? ` (running there: ${running.join(", ")})` : ""));
      }
      return endpoint + m[2]!.slice(name.length);
    },
    async service(request) {
      await startService(input, where, {
        name: request.name,
        command: request.command,
        ...(request.endpoint ? { endpoint: request.endpoint } : {}),
        ...(request.metrics ? { metrics: request.metrics } : {}),
        ...(request.ready ? { ready: request.ready } : {}),
        readyTimeoutMs: request.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      });
    },
    serve(dir) {
      env.served.set(host.name, dir);
    },
    info(message) {
      env.events.message("info", `${host.name}: ${input.name}: ${message}`);
    },
  };
}
