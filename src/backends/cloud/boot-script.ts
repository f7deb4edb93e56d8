// The script a cloud machine runs once at its first boot (EC2's user-data,
// GCE's startup-script): let root in with the run's own SSH key, and end the
// machine at its halt time whatever happens to troupe. The provider turns a
// shutdown into deletion (EC2: InstanceInitiatedShutdownBehavior=terminate),
// so the timer is the machine's own lifetime guarantee. With an experiment
// image, it then starts the image's container (experiment.ts). POSIX sh, as
// minimal images have it.

import { shQuote } from "../../exec/shell-quote.js";
import { experimentBootLines } from "./experiment.js";

export interface BootScriptOptions {
  /** `ssh-ed25519 AAAA... comment`: the one key root accepts. */
  readonly publicKey: string;
  /** Power off after this many minutes. */
  readonly lifetimeMinutes: number;
  /** A login user who gets the key too (the image's default user, when not root). */
  readonly user?: string;
  /** The Docker image the experiment runs in (a scenario group's `image:`). */
  readonly experimentImage?: string;
}

export function bootScript(o: BootScriptOptions): string {
  const minutes = Math.max(1, Math.ceil(o.lifetimeMinutes));
  const key = shQuote(o.publicKey.trim());
  const lines = [
    "#!/bin/sh",
    "# troupe: root logs in with this run's key; the machine powers off at its halt time.",
    `nohup shutdown -h +${minutes} "troupe: halt time" >/dev/null 2>&1 </dev/null &`,
    "umask 077",
    "mkdir -p /root/.ssh",
    `printf '%s\\n' ${key} > /root/.ssh/authorized_keys`,
  ];
  if (o.user !== undefined && o.user !== "root") {
    const home = `"$(getent passwd ${shQuote(o.user)} | cut -d: -f6)"`;
    lines.push(
      `h=${home}`,
      `if [ -n "$h" ]; then mkdir -p "$h/.ssh" && printf '%s\\n' ${key} >> "$h/.ssh/authorized_keys" && chown -R ${shQuote(o.user)} "$h/.ssh"; fi`,
    );
  }
  lines.push(
    "# Images that refuse root logins (PermitRootLogin no) are told to take keys.",
    "if [ -d /etc/ssh/sshd_config.d ]; then",
    "  echo 'PermitRootLogin prohibit-password' > /etc/ssh/sshd_config.d/00-troupe.conf",
    "  if [ -d /run/systemd/system ]; then systemctl reload ssh 2>/dev/null || systemctl reload sshd 2>/dev/null; fi",
    "fi",
    ...(o.experimentImage !== undefined ? experimentBootLines(o.experimentImage) : []),
    "exit 0",
  );
  return `${lines.join("\n")}\n`;
}
