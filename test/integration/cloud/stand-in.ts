// Lab hosts that stand in for the instances moto hands out. moto makes the
// API answer but boots nothing; this watches moto's instances and, for each
// one that runs with a private address in the lab's range (the test's VPC
// subnet is carved out of 10.213.0.0/16), brings up a lab host at that very
// address and "boots" it as the cloud would: it runs the instance's
// user-data as root (with `shutdown` and `systemctl` recording their
// arguments instead of acting: a lab host shares this machine's kernel),
// then lets in the keys the user-data gave root (the lab's sshd reads its
// own authorized_keys file). Its `docker` is a stand-in too (fake-docker.ts). An instance that moto says is terminated loses
// its lab host. So troupe's whole path runs for real: API calls, tags,
// address, SSH, jobs, termination.

import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { createHost, destroyHost } from "../../../src/backends/lab/host.js";
import { DEFAULT_STATE_DIR, hostnameFor, slotOfAddress } from "../../../src/backends/lab/layout.js";
import type { LabHostRecord } from "../../../src/backends/lab/records.js";
import { labTransport } from "../../../src/backends/lab/driver.js";
import { Limiter } from "../../../src/util/limit.js";
import { installFakeDocker } from "./fake-docker.js";
import type { Moto } from "./moto.js";

export interface StoodIn {
  readonly instanceId: string;
  readonly address: string;
  readonly rec: LabHostRecord;
  /** What the user-data asked `shutdown` to do (its arguments), once it has. */
  shutdown?: string;
}

const BOOT = (userData: string): string =>
  [
    "set -e",
    "d=$(mktemp -d)",
    `for c in shutdown poweroff systemctl; do printf '#!/bin/sh\\necho "$0 $*" >> %s/calls\\n' "$d" > "$d/$c"; chmod +x "$d/$c"; done`,
    installFakeDocker("$d/calls"),
    `printf '%s' '${Buffer.from(userData).toString("base64")}' | base64 -d > "$d/user-data"`,
    // A session of its own, as cloud-init's: what it leaves running in the background outlives this script.
    'PATH="$d:$PATH" setsid -w sh "$d/user-data"',
    // The lab's sshd reads only its own file: give it the keys the user-data gave root.
    "cat /root/.ssh/authorized_keys >> /etc/troupe-lab/authorized_keys",
    'echo "$d"',
  ].join("\n");

export class StandIn {
  readonly hosts = new Map<string, StoodIn>();
  private readonly client: EC2Client;
  private readonly starting = new Map<string, Promise<void>>();
  private readonly limiter = new Limiter(8);
  private readonly stopped = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly dirs = new Map<string, string>();
  private wake: (() => void) | undefined;
  readonly errors: string[] = [];

  constructor(
    moto: Moto,
    private readonly stateDir = DEFAULT_STATE_DIR,
  ) {
    this.client = new EC2Client({
      endpoint: moto.url,
      region: moto.env["AWS_REGION"] ?? "eu-west-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
  }

  start(): void {
    this.loop ??= this.watch();
  }

  /** Remove every lab host it made. */
  async stop(): Promise<void> {
    this.stopped.abort();
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.starting.values()]);
    await Promise.allSettled([...this.hosts.values()].map((h) => destroyHost(this.stateDir, h.rec)));
    this.hosts.clear();
    this.client.destroy();
  }

  /** Instances whose lab host went with them, with what their user-data asked `shutdown` to do. */
  readonly gone = new Map<string, StoodIn>();

  private readonly goneWaiters = new Map<string, (() => void)[]>();

  /**
   * What the user-data of a terminated instance asked `shutdown` to do:
   * read just before its lab host went (this waits for that).
   */
  async shutdownCalls(instanceId: string): Promise<string> {
    if (!this.gone.has(instanceId)) {
      await new Promise<void>((resolve) => this.goneWaiters.set(instanceId, [...(this.goneWaiters.get(instanceId) ?? []), resolve]));
    }
    return this.gone.get(instanceId)?.shutdown ?? "";
  }

  private async readCalls(h: StoodIn): Promise<string> {
    const dir = this.dirs.get(h.instanceId);
    if (!dir) return "";
    const t = labTransport(this.stateDir, h.rec);
    let out = "";
    try {
      await t.exec({ script: `cat ${dir}/calls 2>/dev/null || true`, onStdout: (b) => (out += b.toString("utf8")) });
    } finally {
      await t.close();
    }
    return out;
  }

  private async watch(): Promise<void> {
    while (!this.stopped.signal.aborted) {
      try {
        await this.once();
      } catch (err) {
        if (!this.stopped.signal.aborted) this.errors.push(String(err));
      }
      // moto has no events to wait on: look again shortly (or at once when stopped).
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  private async once(): Promise<void> {
    const out = await this.client.send(new DescribeInstancesCommand({}));
    for (const inst of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      const id = inst.InstanceId;
      const address = inst.PrivateIpAddress;
      if (!id || !address) continue;
      const state = inst.State?.Name;
      const slot = slotOfAddress(address);
      if (slot === undefined) continue;
      if (state === "running" && !this.hosts.has(id) && !this.starting.has(id)) {
        const p = this.limiter
          .run(() => this.bringUp(id, address, slot))
          .catch((err: unknown) => {
            this.errors.push(`${id}: ${String(err)}`);
          })
          .finally(() => this.starting.delete(id));
        this.starting.set(id, p);
      } else if ((state === "terminated" || state === "shutting-down") && this.hosts.has(id) && !this.starting.has(id)) {
        const h = this.hosts.get(id)!;
        this.hosts.delete(id);
        h.shutdown = await this.readCalls(h).catch((err: unknown) => `(unreadable: ${String(err)})`);
        this.gone.set(id, h);
        await destroyHost(this.stateDir, h.rec).catch((err: unknown) => this.errors.push(`${id}: ${String(err)}`));
        for (const wake of this.goneWaiters.get(id) ?? []) wake();
        this.goneWaiters.delete(id);
      }
    }
  }

  private async bringUp(id: string, address: string, slot: number): Promise<void> {
    if (this.stopped.signal.aborted) return;
    const attr = await this.client.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "userData" }));
    const userData = Buffer.from(attr.UserData?.Value ?? "", "base64").toString("utf8");
    const rec = await createHost({ stateDir: this.stateDir, name: hostnameFor(`ec2sim-${id}`), slot, system: "ec2-stand-in" });
    const stood: StoodIn = { instanceId: id, address, rec };
    this.hosts.set(id, stood);
    const t = labTransport(this.stateDir, rec);
    let out = "";
    let err = "";
    try {
      const r = await t.exec({
        script: BOOT(userData),
        onStdout: (b) => (out += b.toString("utf8")),
        onStderr: (b) => (err += b.toString("utf8")),
      });
      if (r.exitCode !== 0) throw new Error(`user-data of ${id} failed (${r.exitCode}): ${err}${out}`);
      this.dirs.set(id, out.trim().split("\n").pop() ?? "");
    } finally {
      await t.close();
    }
  }
}
