// The sync service: barriers, key-value store, LAVA-style messages, locks,
// discovery and poison for the hosts of one job, reached from hosts through
// `troupe-ctl` and an in-band relay, and from the orchestrator through SyncClient.

export { SyncService, ORCHESTRATOR, type SyncServiceOptions } from "./service.js";
export { SyncClient, type ClientBarrierOptions, type ClientWaitOptions } from "./client.js";
export { SyncError, isSyncError, SYNC_EXIT, describePoison, type Poison, type SyncFailureKind } from "./errors.js";
export { parseDuration, formatDuration } from "./duration.js";
export { createSyncSessionFactory, openSyncSession, portsFromJob, type SyncSession, type SyncSessionOptions } from "./session.js";
export { runCommand, USAGE, type Answer, type CommandContext } from "./commands.js";
export { Relay, type RelayOptions, type RelayHello } from "./relay.js";
export { SyncServer, type SyncServerOptions } from "./server.js";
export { relayScript, findShareDir } from "./relay-script.js";
export {
  choosePort,
  parsePortSpec,
  portEnvName,
  portRegistry,
  PortRegistry,
  DEFAULT_PORT_RANGE,
  type PortRequest,
  type PortRange,
  type PortTarget,
} from "./ports.js";
export type { Participant } from "./roster.js";
export type { BarrierOptions, BarrierResult } from "./barriers.js";
export type { LockGrant } from "./locks.js";
export type { MessageData, Sent } from "./messages.js";
export type { WaitOptions } from "./waits.js";
