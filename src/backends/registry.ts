// Backend types troupe can run, and the driver for each backend of a project.
// A type's code is loaded only when a run uses it (`loadBackendTypes`), so
// that a run on the local backend never loads the SSH client, and the
// container and cloud SDKs of other backends cost nothing to those who do
// not use them.

import type { Backend } from "../model/project.js";
import { TroupeError } from "../util/errors.js";
import type { BackendContext, BackendDriver, BackendFactory } from "./backend.js";

type Loader = () => Promise<BackendFactory>;

const loaders = new Map<string, Loader>([
  ["local", async () => (await import("./local/index.js")).createLocalDriver],
  ["lab", async () => (await import("./lab/index.js")).createLabDriver],
  ["ssh", async () => (await import("./ssh/index.js")).createSshDriver],
  ["adhoc", async () => (await import("./adhoc/index.js")).createAdhocDriver],
  ["lxd", async () => (await import("./lxd/index.js")).createLxdDriver],
  ["qemu", async () => (await import("./qemu/index.js")).createQemuDriver],
  ["docker", async () => (await import("./docker/index.js")).createDockerDriver],
  ["ec2", async () => (await import("./ec2/index.js")).createEc2Driver],
  ["google", async () => (await import("./google/index.js")).createGoogleDriver],
]);
const loaded = new Map<string, BackendFactory>();

/** Make a backend type runnable (or replace its driver, e.g. in tests): a factory, or how to load one. */
export function registerBackendType(type: string, factory: BackendFactory | { readonly load: Loader }): void {
  if (typeof factory === "function") {
    loaded.set(type, factory);
    loaders.set(type, () => Promise.resolve(factory));
  } else {
    loaded.delete(type);
    loaders.set(type, factory.load);
  }
}

/** The backend types troupe runs today, sorted. */
export function supportedBackendTypes(): string[] {
  return [...loaders.keys()].sort();
}

export interface DriverForOptions {
  /** Run backend NAME as another type: `{ lxd: "local" }` (`--backend-as lxd=local`). */
  readonly backendAs?: Readonly<Record<string, string>>;
}

/** The type a backend runs as: its own, unless `backendAs` says otherwise. */
export function effectiveType(backend: Backend, options: DriverForOptions = {}): string {
  return options.backendAs?.[backend.name] ?? backend.type;
}

/**
 * Load the code of the types `backends` run as, before their drivers are
 * made. Types troupe does not know are left for `driverFor` to refuse, with
 * the position and what to do.
 */
export async function loadBackendTypes(backends: Iterable<Backend>, options: DriverForOptions = {}): Promise<void> {
  const types = new Set([...backends].map((b) => effectiveType(b, options)));
  await Promise.all(
    [...types].map(async (type) => {
      const load = loaders.get(type);
      if (load && !loaded.has(type)) loaded.set(type, await load());
    }),
  );
}

export function driverFor(backend: Backend, ctx: BackendContext, options: DriverForOptions = {}): BackendDriver {
  const type = effectiveType(backend, options);
  if (!loaders.has(type)) {
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
  const factory = loaded.get(type);
  if (!factory) throw new Error(`the ${type} backend's code is not loaded: call loadBackendTypes() first`);
  return factory(backend, ctx);
}
