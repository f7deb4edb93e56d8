// Getting into a container over SSH, as Spread does (lxd.go's tuneSSH): root
// logins with a password allowed in sshd's configuration, root's password
// set to the session's, sshd told to read its configuration again; all
// through `lxc exec`, in one call here rather than four. troupe itself logs
// in with a key of the run's (Debian's sshd takes root's keys by default),
// so its first connection does not wait for sshd to reload, and it checks
// the container's host key, which the same call prints.

/**
 * The script `lxc exec NAME -- sh -c` runs; its stdin is two lines: root's
 * password and the public key to allow. It prints the host's public keys.
 * `password` false: only the key is added (a container taken back with
 * -reuse keeps the password it was given).
 */
export function sshdSetupScript(password: boolean): string {
  return [
    "set -e",
    "IFS= read -r pass",
    "IFS= read -r key",
    "test -f /etc/ssh/sshd_config || { echo 'no /etc/ssh/sshd_config: the image needs openssh-server' >&2; exit 3; }",
    ...(password
      ? [
          String.raw`sed -i 's/^\s*#\?\s*\(PermitRootLogin\|PasswordAuthentication\)\>.*/\1 yes/' /etc/ssh/sshd_config`,
          // sshd takes the first value it reads: a 00- file comes before the others.
          `if [ -d /etc/ssh/sshd_config.d ]; then printf 'PermitRootLogin yes\\nPasswordAuthentication yes\\n' > /etc/ssh/sshd_config.d/00-troupe.conf; fi`,
          `echo "root:$pass" | chpasswd`,
        ]
      : []),
    "umask 077",
    "mkdir -p /root/.ssh",
    `grep -qxF "$key" /root/.ssh/authorized_keys 2>/dev/null || echo "$key" >> /root/.ssh/authorized_keys`,
    // An image without host keys (made unique at first boot): make them, and
    // start sshd again in case it gave up for want of them.
    "if ! ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then",
    "  ssh-keygen -A >/dev/null",
    "  (systemctl --no-block restart ssh.service || service ssh restart) >/dev/null 2>&1 || true",
    "fi",
    HOST_KEYS_COMMAND,
    ...(password ? ["(pkill -HUP -x sshd || killall -HUP sshd) >/dev/null 2>&1 || true"] : []),
  ].join("\n");
}

/** Prints the host's public keys: the end of the setup script, and alone when its output was lost. */
export const HOST_KEYS_COMMAND = "cat /etc/ssh/ssh_host_*_key.pub";

/** The host keys the script printed, `TYPE BASE64` each. */
export function parseHostKeys(output: string): string[] {
  const keys: string[] = [];
  for (const line of output.split("\n")) {
    const m = /^((?:ssh|ecdsa|sk)-[A-Za-z0-9@.-]+) ([A-Za-z0-9+/=]+)(?:\s|$)/.exec(line.trim());
    if (m) keys.push(`${m[1]} ${m[2]}`);
  }
  return keys;
}
