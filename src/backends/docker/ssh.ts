// `transport: ssh`: scripts reach the container over SSH, as they would a
// machine, for images that run sshd (or have it installed). Set up through
// the engine's exec first: a key of this process in root's
// authorized_keys, sshd started if nothing listens yet, and the container's
// own host key read back, so that the in-process SSH client (the lab's)
// accepts that key and no other.

import { shWord } from "../../exec/shell-quote.js";
import { generateEd25519, type SshKeyPair } from "../lab/keys.js";
import { InProcessSshTransport } from "../../transport/inprocess-ssh/index.js";

import { TroupeError } from "../../util/errors.js";
import type { DockerExecTransport } from "./exec-transport.js";

let key: SshKeyPair | undefined;

/** The shell text that readies sshd in the container and prints its Ed25519 host key. */
export function sshSetupScript(publicKey: string): string {
  return [
    "set -e",
    "umask 077",
    "mkdir -p /root/.ssh",
    `printf '%s\\n' ${shWord(publicKey)} >> /root/.ssh/authorized_keys`,
    "[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key",
    "mkdir -p /run/sshd",
    // Started by us unless the image's init runs one already.
    'if ! { [ -f /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; }; then /usr/sbin/sshd; fi',
    "cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub",
  ].join("\n");
}

/** An SSH transport to the container at `address`, readied through `exec`. */
export async function sshTransport(exec: DockerExecTransport, address: string, label: string): Promise<InProcessSshTransport> {
  key ??= generateEd25519("troupe-docker");
  let out = "";
  const r = await exec.exec({
    script: sshSetupScript(key.publicKey),
    onStdout: (c) => (out += c.toString("utf8")),
    onStderr: (c) => (out += c.toString("utf8")),
  });
  const hostKey = /^ssh-ed25519 \S+$/m.exec(out)?.[0];
  if (r.exitCode !== 0 || !hostKey) {
    throw new TroupeError(
      "E_BACKEND",
      `docker: ${label} cannot run sshd for transport: ssh (does its image have openssh-server?): ${out.trim().split("\n").slice(-3).join("; ")}`,
    );
  }
  const transport = new InProcessSshTransport({
    label,
    host: address,
    user: "root",
    privateKey: key.privateKey,
    hostKeys: [hostKey],
    tcpConnectTimeout: 3,
    connectTimeout: 5,
    aliveInterval: 5,
    maxSessions: 8,
    // A terminal (-shell, -debug) goes through the engine's exec.
    interactive: () => exec,
  });
  await transport.connect();
  return transport;
}
