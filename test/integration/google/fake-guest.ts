// What stands in for a Compute Engine VM behind the fake API: a lab host
// (src/backends/lab, a real sshd in namespaces on this machine) at the
// instance's address. The fake plays the part of GCE's guest environment:
// once the host is up, it runs the instance's `startup-script` metadata as
// root, its output going to serial port 1 as google_metadata_script_runner
// logs it, and whatever the script writes to /dev/ttyS2 going to serial
// port 3. The lab's sshd accepts root's password from the start (a GCE
// image's sshd takes the script's sshd_config edits instead); the password
// itself is the one the script sets, so a login works only if the script did.
// Its `docker` is a stand-in too (../cloud/fake-docker.ts).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createLabDriver } from "../../../src/backends/lab/index.js";
import type { BackendDriver, Host } from "../../../src/backends/backend.js";
import type { Backend, System } from "../../../src/model/project.js";
import { EventStream } from "../../../src/report/events.js";
import { installFakeDocker } from "../cloud/fake-docker.js";

const POS = { file: "fake-compute", line: 1, col: 1 };
/** Where the guest's docker (a stand-in: fake-docker.ts) records its calls. */
export const DOCKER_CALLS = "/var/log/fake-docker.calls";

export interface Console {
  /** Something the guest wrote to serial port `port` (1 to 4). */
  write(port: number, text: string): void;
}

export interface Guest {
  readonly address: string;
  /** Runs the startup script; resolves when it has ended. */
  readonly startup: Promise<void>;
}

export class LabGuests {
  private readonly runDir = mkdtempSync(join(tmpdir(), "gce-fake-guests-"));
  private readonly driver: BackendDriver;
  private readonly hosts = new Map<string, Host>();
  private readonly system: System;

  constructor() {
    // A throwaway password for the lab's sshd to have password logins on; the startup script replaces it.
    this.system = {
      name: "instance",
      backend: "gce-fake",
      image: "host",
      workers: 1,
      password: randomBytes(18).toString("base64url"),
      pos: POS,
      where: {},
      environment: [],
      extra: {},
    };
    const backend: Backend = { name: "gce-fake", type: "lab", pos: POS, where: {}, environment: [], systems: [this.system], extra: {} };
    this.driver = createLabDriver(backend, {
      runDir: this.runDir,
      projectDir: this.runDir,
      remotePath: "/root",
      events: new EventStream(),
    });
  }

  /** Boot a guest named `name`; `startupScript` runs once it is up. */
  async boot(name: string, startupScript: string | undefined, console: Console): Promise<Guest> {
    const host = await this.driver.allocate(this.system, this.hosts.size + 1, { name });
    this.hosts.set(name, host);
    console.write(1, `Booting ${name}\n`);
    return {
      address: host.address,
      startup: startupScript === undefined ? Promise.resolve() : this.runStartup(host, startupScript, console),
    };
  }

  private async runStartup(host: Host, script: string, console: Console): Promise<void> {
    const say = (b: Buffer): void => {
      for (const line of b.toString("utf8").split("\n"))
        if (line !== "") console.write(1, `google_metadata_script_runner: startup-script: ${line}\n`);
    };
    // The third serial port: a file the script's `> /dev/ttyS2` writes, read back once it is done.
    await host.transport.exec({ script: `: > /dev/ttyS2\n${installFakeDocker(DOCKER_CALLS)}` });
    const r = await host.transport.exec({ script, onStdout: say, onStderr: say });
    console.write(1, `google_metadata_script_runner: startup-script exit status ${r.exitCode ?? r.signal ?? "unknown"}\n`);
    let port3 = "";
    await host.transport.exec({ script: "cat /dev/ttyS2", onStdout: (b) => (port3 += b.toString("utf8")) });
    if (port3 !== "") console.write(3, port3);
  }

  async discard(name: string): Promise<void> {
    const host = this.hosts.get(name);
    if (!host) return;
    this.hosts.delete(name);
    await this.driver.discard(host);
  }

  async close(): Promise<void> {
    await this.driver.close?.();
    rmSync(this.runDir, { recursive: true, force: true });
  }
}
