// Backend types troupe can run, and the driver for each backend of a project.
// Other drivers (lab, ssh, adhoc, ...) register themselves here.

import type { Backend } from "../model/project.js";
import { TroupeError } from "../util/errors.js";
import type { BackendContext, BackendDriver, BackendFactory } from "./backend.js";
import { createAdhocDriver } from "./adhoc/index.js";
import { createLabDriver } from "./lab/index.js";
import { createLocalDriver } from "./local/index.js";
import { createSshDriver } from "./ssh/index.js";

const factories = new Map<string, BackendFactory>([
  ["local", (backend, ctx) => createLocalDriver(backend, ctx)],
  ["lab", (backend, ctx) => createLabDriver(backend, ctx)],
  ["ssh", (backend, ctx) => createSshDriver(backend, ctx)],
  ["adhoc", (backend, ctx) => createAdhocDriver(backend, ctx)],
]);

/** Make a backend type runnable (or replace its driver, e.g. in tests). */
export function registerBackendType(type: string, factory: BackendFactory): void {
  factories.set(type, factory);
}

/** The backend types troupe runs today, sorted. */
export function supportedBackendTypes(): string[] {
  return [...factories.keys()].sort();
}

export interface DriverForOptions {
  /** Run backend NAME as another type: `{ lxd: "local" }` (`--backend-as lxd=local`). */
  readonly backendAs?: Readonly<Record<string, string>>;
}

/** The type a backend runs as: its own, unless `backendAs` says otherwise. */
export function effectiveType(backend: Backend, options: DriverForOptions = {}): string {
  return options.backendAs?.[backend.name] ?? backend.type;
}

export function driverFor(backend: Backend, ctx: BackendContext, options: DriverForOptions = {}): BackendDriver {
  const type = effectiveType(backend, options);
  const factory = factories.get(type);
  if (!factory) {
    const runs = supportedBackendTypes().join(", ");
    const how = options.backendAs?.[backend.name] !== undefined ? `--backend-as ${backend.name}=${type}` : `type "${type}"`;
    throw new TroupeError("E_UNSUPPORTED", {
      pos: backend.where["type"] ?? backend.pos,
      path: `backends.${backend.name}`,
      message:
        `backend "${backend.name}" has ${how}, which troupe cannot run (troupe runs: ${runs}); ` +
        `to run its systems on this machine instead, pass --backend-as ${backend.name}=local`,
    });
  }
  return factory(backend, ctx);
}
