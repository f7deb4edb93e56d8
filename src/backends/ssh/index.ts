// The ssh backend and what the adhoc backend and `troupe exec` share with it.

export { createSshDriver, type SshDriver, type SshDriverOptions } from "./driver.js";
export {
  connect,
  connectionFor,
  openSshTransport,
  transportOptions,
  type Connected,
  type ConnectOptions,
  type SshConnection,
  type SshTransportFactory,
} from "./connect.js";
export { sshSystemConfig, SSH_BACKEND_KEYS, SSH_SYSTEM_KEYS, type SshSystemConfig } from "./config.js";
export { parseHostSpec, targetsFromSpecs, targetsFromInventory, resolveTargets, type HostSpec, type SshTarget } from "./targets.js";
export { ensureProjectKnownHosts, hostKeyOptions, resolveSshConfig, PROJECT_KNOWN_HOSTS } from "./known-hosts.js";
export { SudoTransport, sudoScript } from "./sudo.js";
export { SwitchableTransport, rebootAndWait } from "./reboot.js";
