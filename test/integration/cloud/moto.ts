// moto_server (moto 5.2, the AWS API as a local server) for the tests of
// cloud backends: started on loopback on a free port, ready once it says it
// listens, stopped at the end. The real AWS SDK talks to it through
// AWS_ENDPOINT_URL with dummy credentials. Where moto is not installed the
// tests fail with what to install, they never skip.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../../src/util/free-port.js";
import { troupeAsync, type Result } from "../cli/helpers.js";

// troupe pins the SDK: its notice about future Node versions is noise here.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

export interface Moto {
  readonly url: string;
  /** What a process needs to talk to it with the SDK (endpoint, dummy credentials, no metadata service). */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

const INSTALL =
  "moto_server is not installed: the EC2 tests need moto 5.2 on loopback. Install it with " +
  "`pip install 'moto[server]==5.2.*'` (python 3.9+), or set MOTO_SERVER to its path";

/** Where moto_server is: MOTO_SERVER, PATH, pyenv's shims. */
export function motoServerPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env["MOTO_SERVER"]) {
    if (!existsSync(env["MOTO_SERVER"])) throw new Error(`MOTO_SERVER=${env["MOTO_SERVER"]} does not exist. ${INSTALL}`);
    return env["MOTO_SERVER"];
  }
  const dirs = [...(env["PATH"] ?? "").split(":"), join(env["HOME"] ?? "/root", ".pyenv", "shims"), "/root/.pyenv/shims"];
  for (const d of dirs) {
    if (d && existsSync(join(d, "moto_server"))) return join(d, "moto_server");
  }
  throw new Error(INSTALL);
}

/** Start it; resolves once it listens. */
export async function startMoto(): Promise<Moto> {
  const bin = motoServerPath();
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(bin, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    const listening = await new Promise<boolean>((resolve) => {
      let said = "";
      const onData = (b: Buffer): void => {
        said += b.toString("utf8");
        if (said.includes(`Running on http://127.0.0.1:${port}`)) resolve(true);
        if (said.length > 1 << 16) said = said.slice(-4096);
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", () => resolve(false));
      child.once("error", () => resolve(false));
    });
    if (!listening) {
      if (attempt < 3) continue; // someone took the port between our look and its bind
      throw new Error(`moto_server (${bin}) did not start. ${INSTALL}`);
    }
    // Keep reading what it logs (every request), or it blocks on a full pipe.
    child.stdout.resume();
    child.stderr.resume();
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      env: {
        AWS_ENDPOINT_URL: url,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_REGION: "eu-west-1",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
      stop: () => stop(child),
    };
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** troupe as a user runs it, without blocking this process (its stand-ins answer meanwhile). */
export function troupeAsyncResult(args: readonly string[], env: Readonly<Record<string, string>>, cwd?: string): Promise<Result> {
  const child = troupeAsync(args, { env: { ...env }, ...(cwd ? { cwd } : {}) });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
  return new Promise((resolve) => child.once("close", (status) => resolve({ status, stdout, stderr, pid: child.pid ?? 0 })));
}
