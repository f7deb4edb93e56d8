// One instance as the Compute API's `instances.insert` takes it: Spread's
// machine (its name format, labels, network, tags, boot disk and startup
// script) plus troupe's owner labels and a lifetime GCE itself enforces
// (scheduling.maxRunDuration with instanceTerminationAction DELETE). Pure.

import { shQuote } from "../../exec/shell-quote.js";
import { experimentBootLines } from "../cloud/experiment.js";
import type { GoogleSystemConfig } from "./settings.js";

/** What the startup script writes to the third serial port once root may log in (Spread's marker). */
export const READY_MARKER = "MACHINE-IS-READY";
/** The serial port the marker goes to: /dev/ttyS2 is port 3. */
export const READY_PORT = 3;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
let lastName = "";

/**
 * Spread's instance name: the UTC month, day, hour and minute, then the
 * microseconds within the second (`dec071734-123456`), so that Spread's own
 * gc and reuse know troupe's instances. Unique in this process; another
 * process may still pick the same name, which insert refuses (alreadyExists)
 * and the driver tries again.
 */
export function instanceName(nowMs = performance.timeOrigin + performance.now()): string {
  const d = new Date(Math.floor(nowMs));
  const p2 = (n: number): string => String(n).padStart(2, "0");
  const head = `${MONTHS[d.getUTCMonth()]}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}`;
  let micros = Math.floor((nowMs % 1000) * 1000);
  let name = `${head}-${String(micros).padStart(6, "0")}`;
  while (name <= lastName && name.slice(0, head.length) === lastName.slice(0, head.length)) {
    micros = (micros + 1) % 1_000_000;
    name = `${head}-${String(micros).padStart(6, "0")}`;
  }
  lastName = name;
  return name;
}

/** Whether `name` is one of Spread's (and troupe's) instance names. */
export function isSpreadName(name: string): boolean {
  return /^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\d{6}-\d{6}$/.test(name);
}

/** A value GCE takes as a label: lower-case letters, digits, `_` and `-`, at most 63 characters. */
export function labelValue(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "_")
    .slice(0, 63);
}

/**
 * The startup script (instance metadata, run as root at boot): root's
 * password becomes the session's, sshd accepts root and passwords (in
 * sshd_config and in the drop-ins of sshd_config.d, where cloud images turn
 * passwords off), sshd reloads, and the marker goes to the third serial
 * port. The driver removes the script from the metadata once the marker is
 * seen, so the password stays there only while the machine boots.
 */
export function startupScript(password: string, experimentImage?: string): string {
  const edit = `s/^[[:space:]]*#?[[:space:]]*(PermitRootLogin|PasswordAuthentication)([[:space:]].*)?$/\\1 yes/`;
  return [
    "#!/bin/sh",
    "# troupe: let root log in over ssh with the session's password, then say so on the third serial port",
    `printf 'root:%s\\n' ${shQuote(password)} | chpasswd`,
    `for f in /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf; do [ -f "$f" ] && sed -i -E '${edit}' "$f"; done`,
    "systemctl reload ssh 2>/dev/null || systemctl reload sshd 2>/dev/null || pkill -o -HUP sshd || true",
    `echo ${READY_MARKER} > /dev/ttyS2`,
    // Root may log in now; the experiment's container comes up meanwhile, and the driver waits for it once in.
    ...(experimentImage !== undefined ? experimentBootLines(experimentImage) : []),
    "",
  ].join("\n");
}

export interface InstanceRequest {
  readonly name: string;
  readonly zone: string;
  readonly project: string;
  readonly config: GoogleSystemConfig;
  /** From images.ts. */
  readonly sourceImage: string;
  readonly password: string;
  /** The Docker image the experiment runs in (a scenario group's `image:`). */
  readonly experimentImage?: string;
  /** Spread's labels and troupe's, already label-safe. */
  readonly labels: Readonly<Record<string, string>>;
  /** GCE deletes the instance this long after it starts; absent: never. */
  readonly lifetimeMs?: number;
}

/** Spread's labels: spread=true, the user, whether it is kept for reuse; and the halt-timeout Spread's gc reads. */
export function spreadLabels(user: string, reuse: boolean, lifetimeMs?: number): Record<string, string> {
  return {
    spread: "true",
    owner: labelValue(user),
    reuse: String(reuse),
    ...(lifetimeMs !== undefined ? { "halt-timeout": `${Math.ceil(lifetimeMs / 1000)}s` } : {}),
  };
}

/** The body of `POST projects/P/zones/Z/instances`. */
export function instanceBody(r: InstanceRequest): Record<string, unknown> {
  const c = r.config;
  return {
    name: r.name,
    machineType: `zones/${r.zone}/machineTypes/${c.plan}`,
    minCpuPlatform: c.cpuFamily ?? "AUTOMATIC",
    networkInterfaces: [{ network: "global/networks/default", accessConfigs: [{ type: "ONE_TO_ONE_NAT", name: "External NAT" }] }],
    disks: [
      {
        boot: true,
        autoDelete: true,
        type: "PERSISTENT",
        initializeParams: { sourceImage: r.sourceImage, ...(c.diskSizeGb !== undefined ? { diskSizeGb: String(c.diskSizeGb) } : {}) },
      },
    ],
    metadata: { items: [{ key: "startup-script", value: startupScript(r.password, r.experimentImage) }] },
    labels: r.labels,
    tags: { items: ["spread"] },
    ...(c.secureBoot ? { shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true } } : {}),
    ...(r.lifetimeMs !== undefined
      ? { scheduling: { maxRunDuration: { seconds: String(Math.ceil(r.lifetimeMs / 1000)) }, instanceTerminationAction: "DELETE" } }
      : {}),
  };
}

/** The parts of an instance the backend reads. */
export interface InstanceData {
  readonly name: string;
  readonly status?: string;
  readonly creationTimestamp?: string;
  readonly zone?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly networkInterfaces?: readonly {
    readonly networkIP?: string;
    readonly accessConfigs?: readonly { readonly type?: string; readonly natIP?: string }[];
  }[];
  readonly metadata?: { readonly fingerprint?: string; readonly items?: readonly { readonly key: string; readonly value?: string }[] };
}

/** The address to reach an instance at: its external NAT address (as Spread), else its internal one. */
export function instanceAddress(i: InstanceData): string | undefined {
  for (const nic of i.networkInterfaces ?? []) {
    for (const ac of nic.accessConfigs ?? []) if (ac.type === "ONE_TO_ONE_NAT" && ac.natIP) return ac.natIP;
  }
  return i.networkInterfaces?.find((n) => n.networkIP)?.networkIP;
}
