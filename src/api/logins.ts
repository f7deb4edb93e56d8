// Spread evaluates a system's `username` and `password` on the orchestrator
// once the jobs are known ($VAR from the project and backend environments,
// see plan/settings.ts). Drivers read them from the System they are given, so
// hand them systems carrying the evaluated values.

import type { BackendDriver } from "../backends/backend.js";
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
  // Every capability the driver has stays (drivers are plain objects); only the systems change.
  return {
    ...driver,
    allocate: (s, i, hint) => driver.allocate(sys(s), i, hint),
    ...(driver.workersFor ? { workersFor: (s: System) => driver.workersFor?.(sys(s)) } : {}),
    ...(driver.reuse ? { reuse: (s: System, rec, purpose) => driver.reuse!(sys(s), rec, purpose) } : {}),
  };
}
