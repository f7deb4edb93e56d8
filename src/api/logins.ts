// Spread evaluates a system's `username` and `password` on the orchestrator
// once the jobs are known ($VAR from the project and backend environments,
// see plan/settings.ts). Drivers read them from the System they are given, so
// hand them systems carrying the evaluated values.

import type { BackendDriver, Host } from "../backends/backend.js";
import type { Backend, System } from "../model/project.js";
import type { ResolvedSettings } from "../plan/index.js";

type Logins = ResolvedSettings["systems"];

/** `backend` with each system's username and password replaced by their evaluated values. */
export function withEvaluatedLogins(backend: Backend, logins: Logins): Backend {
  if (!backend.systems.some((s) => s.username !== undefined || s.password !== undefined)) return backend;
  return { ...backend, systems: backend.systems.map((s) => evaluated(backend, s, logins)) };
}

function evaluated(backend: Backend, system: System, logins: Logins): System {
  const l = logins[`${backend.name}:${system.name}`];
  if (!l || (l.username === undefined && l.password === undefined)) return system;
  return {
    ...system,
    ...(l.username !== undefined ? { username: l.username } : {}),
    ...(l.password !== undefined ? { password: l.password } : {}),
  };
}

/** A driver that sees evaluated logins in the systems the engine passes it. */
export function driverWithEvaluatedLogins(driver: BackendDriver, backend: Backend, logins: Logins): BackendDriver {
  if (backend.systems.every((s) => s.username === undefined && s.password === undefined)) return driver;
  const sys = (s: System): System => evaluated(backend, s, logins);
  const d: BackendDriver = {
    type: driver.type,
    allocate: (s, i) => driver.allocate(sys(s), i),
    discard: (h) => driver.discard(h),
    ...(driver.workersFor ? { workersFor: (s: System) => driver.workersFor?.(sys(s)) } : {}),
    ...(driver.reboot ? { reboot: (h: Host) => driver.reboot!(h) } : {}),
    ...(driver.close ? { close: () => driver.close!() } : {}),
  };
  return d;
}
