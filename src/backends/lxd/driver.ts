// The `lxd` backend, with Spread's semantics (spread/lxd.go): a system is an
// image (its name mapped as Spread maps it, or `image:`), each host a
// container launched with `lxc launch IMAGE NAME --ephemeral` (not
// ephemeral with -reuse, as Spread), its address the one LXD reports, sshd
// set up through `lxc exec` (root's password is the session's), then
// reached over SSH; `lxc delete --force` discards it.
//
// troupe's additions: containers carry troupe's owner labels (user.troupe*)
// so that `troupe gc` finds what a killed run left; an exit hook deletes
// what is still up should the process exit without discarding; REBOOT is
// `lxc restart`; local images are found by alias first (images.ts).

import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdir, rmdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { currentOwner } from "../../gc/owner.js";
import type { Backend, System } from "../../model/project.js";
import { InProcessSshTransport } from "../../transport/inprocess-ssh/index.js";
import { SshTransport } from "../../transport/ssh/index.js";
import type { Transport } from "../../transport/transport.js";
import { TroupeError } from "../../util/errors.js";
import { errorText } from "../../util/text.js";
import type { AllocateOptions, BackendContext, BackendDriver, Host, RecordedHost } from "../backend.js";
import { generateEd25519, type SshKeyPair } from "../lab/keys.js";
import { SwitchableTransport } from "../ssh/reboot.js";
import { checkDaemon, clientOf, imagesFor, readCatalog, type Catalog } from "./check.js";
import { clientSetup, LxcError, type ClientSetup, type LxdClient, type Output } from "./client.js";
import type { ImageChoice } from "./images.js";
import { configArgs, KEY_BACKEND, KEY_HOST, KEY_REUSE, ownerConfig } from "./labels.js";
import { containerName, nameTaken, nextCount } from "./names.js";
import { HOST_KEYS_COMMAND, parseHostKeys, sshdSetupScript } from "./sshd.js";
import { waitAddress, type InstanceState } from "./state.js";
import { ExitSweep, keysByValue } from "../../util/exit-sweep.js";

export interface LxdDriverOptions {
  /** The client and daemon (default: clientSetup() from the environment). */
  readonly setup?: ClientSetup;
  /** ~/.troupe/lxd-count by default. */
  readonly countFile?: string;
}

interface Live {
  readonly container: string;
  readonly host: Host;
  readonly switcher: SwitchableTransport;
  transport: InProcessSshTransport;
  hostKeys: readonly string[];
  kept: boolean;
}

/** How long one `lxc exec` of the sshd setup may take, and how many times it is tried. */
const SSHD_SETUP_TIMEOUT_MS = 60_000;
const SSHD_SETUP_ATTEMPTS = 3;

/** Containers of every lxd driver of this process, deleted synchronously should the process exit with them up. */
const upEverywhere = new ExitSweep<LxdClient>((left) => {
  for (const [client, names] of keysByValue(left)) client.runSync(["delete", "--force", ...names]);
});

export function createLxdDriver(backend: Backend, ctx: BackendContext, options: LxdDriverOptions = {}): BackendDriver {
  const setup = options.setup ?? clientSetup();
  let client: LxdClient | undefined;
  const lxc = (): LxdClient => (client ??= clientOf(setup));
  /** The session's password (Spread's -pass, random by default): root's on every container. */
  const sessionPassword = ctx.password ?? randomBytes(8).toString("hex");
  let key: SshKeyPair | undefined;
  const keyPair = (): SshKeyPair => (key ??= generateEd25519("troupe-lxd"));
  const live = new Map<string, Live>();
  const hostsDir = resolve(ctx.runDir, "hosts");
  const sshDir = join(ctx.runDir, "lxd");
  let catalog: Promise<Catalog> | undefined;
  let images: Promise<Map<string, ImageChoice>> | undefined;
  const signalOpt = ctx.signal ? { signal: ctx.signal } : {};

  const imageOf = async (system: System): Promise<ImageChoice> => {
    images ??= (catalog ??= readCatalog(lxc())).then((c) => imagesFor(backend, c));
    const choice = (await images).get(system.name);
    if (!choice) throw new TroupeError("E_BACKEND", `backend ${backend.name} has no system ${system.name}`);
    return choice;
  };

  /** OpenSSH, for -shell and -debug: the run's key and the container's host keys in files of the run. */
  const interactive = (entry: () => Live | undefined, address: string, label: string) => (): Transport => {
    mkdirSync(sshDir, { recursive: true, mode: 0o700 });
    const identityFile = join(sshDir, "id_ed25519");
    writeFileSync(identityFile, keyPair().privateKey, { mode: 0o600 });
    const knownHostsFile = join(sshDir, `known_hosts.${label}`);
    writeFileSync(knownHostsFile, (entry()?.hostKeys ?? []).map((k) => `${address} ${k}\n`).join(""));
    return new SshTransport({
      label,
      host: address,
      user: "root",
      configFile: "/dev/null",
      identityFile,
      identitiesOnly: true,
      knownHostsFile,
      strictHostKeyChecking: "yes",
      shareConnection: false,
    });
  };

  const sshTo = (container: string, address: string, hostKeys: readonly string[]): InProcessSshTransport =>
    new InProcessSshTransport({
      label: container,
      host: address,
      user: "root",
      privateKey: keyPair().privateKey,
      hostKeys,
      // sshd may still be starting when the container has its address.
      connectAttempts: 30,
      backoffMs: 100,
      retryForMs: 60_000,
      tcpConnectTimeout: 5,
      connectTimeout: 10,
      aliveInterval: 5,
      interactive: interactive(() => live.get(container), address, container),
    });

  /**
   * The setup script through `lxc exec`. Under load, LXD 5.0 was seen to
   * leave `lxc exec` waiting after the script had ended: each attempt gets
   * SSHD_SETUP_TIMEOUT_MS, and the script (which may run twice) is tried
   * again, so that an allocation never waits forever.
   */
  const setupExec = async (container: string, password: string | undefined): Promise<Output> => {
    for (let attempt = 1; ; attempt++) {
      const timeout = AbortSignal.timeout(SSHD_SETUP_TIMEOUT_MS);
      try {
        return await lxc().run(["exec", container, "--", "sh", "-c", sshdSetupScript(password !== undefined)], {
          input: `${password ?? ""}\n${keyPair().publicKey}\n`,
          signal: ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout,
        });
      } catch (err) {
        if (!timeout.aborted || ctx.signal?.aborted) throw err;
        if (attempt >= SSHD_SETUP_ATTEMPTS) {
          throw new TroupeError(
            "E_BACKEND",
            `cannot prepare sshd in lxd container ${container}: lxc exec did not return within ${SSHD_SETUP_TIMEOUT_MS / 1000}s, ${attempt} times`,
          );
        }
        ctx.events.message(
          "warn",
          `lxd: setting up sshd in ${container} did not return within ${SSHD_SETUP_TIMEOUT_MS / 1000}s; trying again`,
        );
      }
    }
  };

  /** sshd set up and our key allowed (with root's password too when `password` is given); the host keys. */
  const setUpSsh = async (container: string, password: string | undefined): Promise<string[]> => {
    const out = await setupExec(container, password);
    if (out.code !== 0) {
      throw new TroupeError(
        "E_BACKEND",
        `cannot prepare sshd in lxd container ${container}: ${out.stderr.trim().split("\n").pop() || `exit status ${out.code}`}`,
      );
    }
    let keys = parseHostKeys(out.stdout);
    // Under load LXD 5.0 was seen to end `lxc exec` with status 0 and none of
    // the output: ask for the keys once more before saying there are none.
    if (keys.length === 0)
      keys = parseHostKeys((await lxc().run(["exec", container, "--", "sh", "-c", HOST_KEYS_COMMAND], signalOpt)).stdout);
    if (keys.length === 0) throw new TroupeError("E_BACKEND", `lxd container ${container} has no ssh host key`);
    return keys;
  };

  const deleteContainer = async (container: string): Promise<void> => {
    const out = await lxc().run(["delete", "--force", container]);
    if (out.code === 0) return;
    // Gone already is fine; anything else is an error.
    const exists = await lxc().run(["query", `/1.0/instances/${encodeURIComponent(container)}`]);
    if (exists.code !== 0) return;
    throw new LxcError(["delete", "--force", container], out);
  };

  const track = (container: string): void => {
    upEverywhere.set(container, lxc());
  };
  const untrack = (container: string): void => {
    upEverywhere.delete(container);
    live.delete(container);
  };

  /** Launch a container under a fresh name; returns the name. */
  const launch = async (system: System, image: string): Promise<string> => {
    const config = {
      ...ownerConfig(currentOwner(ctx.runId)),
      [KEY_BACKEND]: backend.name,
    };
    for (let attempt = 0; ; attempt++) {
      const name = containerName(await nextCount(options.countFile), system.name);
      track(name);
      const args = ["launch", image, name, ...(ctx.keepHosts ? [] : ["--ephemeral"]), ...configArgs({ ...config, [KEY_HOST]: name })];
      try {
        await lxc().ok(args, signalOpt);
        return name;
      } catch (err) {
        upEverywhere.delete(name);
        if (nameTaken(err) && attempt < 10) continue;
        if (!nameTaken(err)) await deleteContainer(name).catch(() => undefined);
        throw new TroupeError("E_BACKEND", `cannot launch lxd container for ${system.name} from ${image}: ${errorText(err)}`);
      }
    }
  };

  const hostOf = (container: string, system: System, address: string, switcher: Transport, password: string): Host => ({
    name: container,
    address,
    backend: backend.name,
    system: system.name,
    transport: switcher,
    projectPath: ctx.remotePath,
    data: { name: container, password },
  });

  const rootOnly = (system: System): void => {
    if (system.username !== undefined && system.username !== "root") {
      throw new TroupeError("E_UNSUPPORTED", { pos: system.pos, message: `lxd containers are reached as root, not ${system.username}` });
    }
  };

  const driver: BackendDriver = {
    type: "lxd",

    async check(): Promise<void> {
      await checkDaemon(lxc());
      const first = backend.systems[0];
      if (first === undefined) return;
      await imageOf(first).catch((err: unknown) => {
        images = undefined;
        catalog = undefined;
        throw err;
      });
    },

    async allocate(system: System, _index: number, _hint?: AllocateOptions): Promise<Host> {
      rootOnly(system);
      const image = await imageOf(system);
      const password = system.password ?? sessionPassword;
      const container = await launch(system, image.launch);
      try {
        await mkdir(join(hostsDir, container), { recursive: true });
        const [address, hostKeys] = await Promise.all([waitAddress(lxc(), container, signalOpt), setUpSsh(container, password)]);
        const transport = sshTo(container, address, hostKeys);
        const switcher = new SwitchableTransport(transport);
        const entry: Live = {
          container,
          host: hostOf(container, system, address, switcher, password),
          switcher,
          transport,
          hostKeys,
          kept: false,
        };
        live.set(container, entry);
        await transport.connect(ctx.signal);
        return entry.host;
      } catch (err) {
        await live
          .get(container)
          ?.transport.close()
          .catch(() => undefined);
        untrack(container);
        await deleteContainer(container).catch(() => undefined);
        await rmdir(join(hostsDir, container)).catch(() => undefined);
        throw err;
      }
    },

    async discard(host: Host): Promise<void> {
      const container = typeof host.data?.["name"] === "string" ? host.data["name"] : host.name;
      const entry = live.get(container);
      untrack(container);
      await (entry?.switcher ?? host.transport).close().catch(() => undefined);
      await deleteContainer(container);
    },

    async reuse(system: System, recorded: RecordedHost, purpose: "run" | "discard"): Promise<Host | undefined> {
      rootOnly(system);
      const data = recorded.data ?? {};
      const container = typeof data["name"] === "string" ? data["name"] : recorded.name;
      const state = await lxc()
        .query<InstanceState>(`/1.0/instances/${encodeURIComponent(container)}/state`)
        .catch(() => undefined);
      if (!state) return undefined;
      const password = recorded.password ?? (typeof data["password"] === "string" ? data["password"] : sessionPassword);
      if (purpose === "discard") {
        // Never connected: discard only deletes it.
        const idle = sshTo(container, recorded.address, []);
        return hostOf(container, system, recorded.address, idle, password);
      }
      if (state.status !== "Running") await lxc().ok(["start", container], signalOpt);
      // Ours now: gc leaves containers of a running troupe alone.
      await lxc().ok(["config", "set", container, ...Object.entries(ownerConfig(currentOwner(ctx.runId))).map(([k, v]) => `${k}=${v}`)]);
      const [address, hostKeys] = await Promise.all([waitAddress(lxc(), container, signalOpt), setUpSsh(container, undefined)]);
      const transport = sshTo(container, address, hostKeys);
      const switcher = new SwitchableTransport(transport);
      const kept = ctx.keepHosts === true;
      const entry: Live = { container, host: hostOf(container, system, address, switcher, password), switcher, transport, hostKeys, kept };
      live.set(container, entry);
      if (!kept) track(container);
      await mkdir(join(hostsDir, container), { recursive: true });
      try {
        await transport.connect(ctx.signal);
      } catch (err) {
        live.delete(container);
        upEverywhere.delete(container);
        await transport.close().catch(() => undefined);
        throw err;
      }
      return entry.host;
    },

    async keep(host: Host, reuseFile: string): Promise<void> {
      const entry = live.get(host.name);
      if (!entry) throw new TroupeError("E_BACKEND", `lxd: cannot keep ${host.name}: not a host of this run`);
      await lxc().ok(["config", "set", entry.container, `${KEY_REUSE}=${reuseFile}`]);
      entry.kept = true;
      upEverywhere.delete(entry.container);
    },

    async release(host: Host): Promise<void> {
      const entry = live.get(host.name);
      if (!entry) return;
      live.delete(host.name);
      upEverywhere.delete(host.name);
      await entry.switcher.close().catch(() => undefined);
    },

    async reboot(host: Host): Promise<void> {
      const entry = live.get(host.name);
      if (!entry) throw new TroupeError("E_BACKEND", `lxd: cannot reboot ${host.name}: not a host of this run`);
      await entry.transport.close().catch(() => undefined);
      await lxc().ok(["restart", entry.container, "--timeout=60"], signalOpt);
      const address = await waitAddress(lxc(), entry.container, signalOpt);
      if (address !== entry.host.address) {
        throw new TroupeError(
          "E_BACKEND",
          `lxd container ${entry.container} came back from REBOOT at ${address}, not ${entry.host.address}`,
        );
      }
      const next = sshTo(entry.container, address, entry.hostKeys);
      await next.connect(ctx.signal);
      entry.transport = next;
      await entry.switcher.switchTo(next);
    },

    async close(): Promise<void> {
      await Promise.all(
        [...live.values()].map(async (entry) => {
          if (entry.kept) return driver.release!(entry.host);
          return driver.discard(entry.host).catch((err: unknown) => ctx.events.message("error", errorText(err)));
        }),
      );
    },
  };
  return driver;
}
