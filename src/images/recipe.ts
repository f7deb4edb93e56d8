// What an image is made of, decided without any I/O: the Debian release a
// system name stands for, the packages, and the files written into the root
// filesystem after debootstrap. The same recipe always means the same image;
// its hash (cache-key.ts) names it in the store.

import { lxdImageAliases } from "../backends/lxd/images.js";
import { TroupeError } from "../util/errors.js";
import type { LoginUser } from "./users.js";

/** The outputs an image can be made for. */
export const TARGETS = ["docker", "lxd", "qemu"] as const;
export type Target = (typeof TARGETS)[number];

export const DEFAULT_MIRROR = "http://deb.debian.org/debian";

/** System names (as Spread projects write them) troupe can build, with their Debian suite and release. */
export const SYSTEMS: Readonly<Record<string, { readonly suite: string; readonly release: string }>> = {
  "debian-11": { suite: "bullseye", release: "11" },
  "debian-12": { suite: "bookworm", release: "12" },
  "debian-13": { suite: "trixie", release: "13" },
  "debian-sid": { suite: "sid", release: "sid" },
};

/** In every image: what troupe and Spread need on a host, an init and DHCP for lxd and qemu. */
export const BASE_PACKAGES: readonly string[] = [
  "openssh-server",
  "iproute2",
  "procps",
  "systemd-sysv",
  "bash",
  "tar",
  "gzip",
  "ca-certificates",
  "sudo",
  "iputils-ping",
  // systemd-networkd waits for udev to set a link up wherever /sys is writable (LXD containers, VMs).
  "udev",
];

/** Only in the qemu output: a kernel (with its initramfs) and what DHCP with systemd-networkd needs. */
export const QEMU_PACKAGES: readonly string[] = ["linux-image-amd64", "initramfs-tools", "kmod"];

/** One file written into the root filesystem (path absolute inside it). */
export interface FileStep {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/** One symbolic link made inside the root filesystem (what `systemctl enable` would make). */
export interface LinkStep {
  readonly path: string;
  readonly target: string;
}

/** The configuration applied after the packages are in. */
export interface Configuration {
  readonly files: readonly FileStep[];
  readonly links: readonly LinkStep[];
  /** Paths removed (files only). */
  readonly remove: readonly string[];
}

export interface QemuRecipe {
  readonly packages: readonly string[];
  readonly configuration: Configuration;
  /** The root filesystem image's size in MiB (a sparse file: unused blocks take no room). */
  readonly sizeMiB: number;
}

export interface Recipe {
  readonly name: string;
  readonly suite: string;
  readonly release: string;
  readonly variant: "minbase";
  readonly arch: "amd64";
  readonly mirror: string;
  readonly components: readonly string[];
  readonly packages: readonly string[];
  readonly configuration: Configuration;
  readonly qemu: QemuRecipe;
  /**
   * Login users beyond root (--user), in the qemu output only: absent when
   * there are none, so that recipes without users keep their keys.
   */
  readonly users?: readonly LoginUser[];
}

export interface RecipeOptions {
  /** The Debian mirror (default DEFAULT_MIRROR). */
  readonly mirror?: string | undefined;
  /** Login users to add (--user). */
  readonly users?: readonly LoginUser[] | undefined;
}

/** The names troupe knows, in order. */
export function knownNames(): string[] {
  return Object.keys(SYSTEMS);
}

/** The recipe for a system name; an unknown name is an E_USAGE error listing the known ones. */
export function recipeFor(name: string, options: RecipeOptions = {}): Recipe {
  const system = SYSTEMS[name];
  if (!system) {
    const known = knownNames().join(", ");
    const why = name.startsWith("ubuntu-")
      ? `troupe builds images offline from a Debian mirror only, and there is no Ubuntu mirror here (it knows: ${known})`
      : `troupe knows no image ${JSON.stringify(name)} (it knows: ${known})`;
    throw new TroupeError("E_USAGE", `image build: ${why}`);
  }
  const mirror = normaliseMirror(options.mirror ?? DEFAULT_MIRROR);
  return {
    name,
    suite: system.suite,
    release: system.release,
    variant: "minbase",
    arch: "amd64",
    mirror,
    components: ["main"],
    packages: [...BASE_PACKAGES],
    configuration: baseConfiguration(name, system.suite, mirror),
    qemu: { packages: [...QEMU_PACKAGES], configuration: qemuConfiguration(), sizeMiB: 4096 },
    ...(options.users?.length ? { users: uniqueUsers(options.users) } : {}),
  };
}

/** The recipe an image with users is made from: the same without them. */
export function baseRecipe(recipe: Recipe): Recipe {
  const { users: _users, ...base } = recipe;
  return base;
}

function uniqueUsers(users: readonly LoginUser[]): LoginUser[] {
  const seen = new Set<string>();
  for (const u of users) {
    if (seen.has(u.name)) throw new TroupeError("E_USAGE", `image build: --user ${u.name} is given twice`);
    seen.add(u.name);
  }
  return [...users];
}

function normaliseMirror(mirror: string): string {
  const m = mirror.trim().replace(/\/+$/, "");
  if (!/^(https?|file):\/\/\S+$/.test(m)) {
    throw new TroupeError("E_USAGE", `image build: --mirror ${JSON.stringify(mirror)} is not an http://, https:// or file:// URL`);
  }
  return m;
}

const SSHD_CONFIG = `# Written by troupe image build: root logs in with a password, as Spread's
# backends expect (they set the password when they allocate a machine).
PermitRootLogin yes
PasswordAuthentication yes
`;

function baseConfiguration(name: string, suite: string, mirror: string): Configuration {
  return {
    files: [
      { path: "/etc/hostname", content: `${name}\n`, mode: 0o644 },
      { path: "/etc/hosts", content: `127.0.0.1\tlocalhost\n127.0.1.1\t${name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`, mode: 0o644 },
      { path: "/etc/ssh/sshd_config.d/troupe.conf", content: SSHD_CONFIG, mode: 0o644 },
      // Each machine gets its own id at first boot (systemd writes it when the file is empty).
      { path: "/etc/machine-id", content: "", mode: 0o444 },
      { path: "/etc/apt/sources.list", content: `deb ${mirror} ${suite} main\n`, mode: 0o644 },
      // LXD and qemu machines ask for their address (docker sets it itself; nothing runs networkd there).
      { path: "/etc/systemd/network/80-troupe-dhcp.network", content: NETWORK_UNIT, mode: 0o644 },
    ],
    links: [{ path: `${WANTS}/systemd-networkd.service`, target: "/lib/systemd/system/systemd-networkd.service" }],
    remove: ["/var/lib/dbus/machine-id"],
  };
}

/**
 * Root's password at boot: `troupe.password=` on the kernel command line
 * (the qemu backend boots the kernel directly and passes the run's
 * password), else the image's default, QEMU_DEFAULT_PASSWORD.
 */
export const QEMU_DEFAULT_PASSWORD = "troupe";

const PASSWORD_SCRIPT = `#!/bin/sh
# Written by troupe image build: root's password from the kernel command line
# (troupe.password=...), else the image's default.
set -euf
password=${QEMU_DEFAULT_PASSWORD}
for arg in $(cat /proc/cmdline); do
  case "$arg" in troupe.password=*) password=\${arg#troupe.password=} ;; esac
done
echo "root:$password" | chpasswd
`;

const PASSWORD_UNIT = `[Unit]
Description=Set root's password (troupe.password= on the kernel command line)
Before=ssh.service
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/troupe-password

[Install]
WantedBy=multi-user.target
`;

const WANTS = "/etc/systemd/system/multi-user.target.wants";

const NETWORK_UNIT = `# Written by troupe image build: DHCP on the machine's network card.
[Match]
Name=en* eth*

[Network]
DHCP=yes
`;

/**
 * The initramfs holds only what finds and mounts root on a virtio disk: the
 * default (MODULES=most) copies most of the kernel's drivers, and made
 * installing the kernel take minutes. Modules come from a hook (the modules
 * file is a conffile of initramfs-tools, which dpkg would ask about).
 */
const INITRAMFS_CONF = "# Written by troupe image build: root is ext4 on a virtio disk (see hooks/troupe).\nMODULES=list\n";
const INITRAMFS_HOOK = `#!/bin/sh
# Written by troupe image build: the drivers for root on a virtio disk, loaded at boot.
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
for m in virtio_pci virtio_blk virtio_scsi ext4; do
  manual_add_modules "$m"
  echo "$m" >> "$DESTDIR/conf/modules"
done
`;

function qemuConfiguration(): Configuration {
  return {
    files: [
      { path: "/etc/fstab", content: "/dev/vda\t/\text4\trw,errors=remount-ro\t0\t1\n", mode: 0o644 },
      { path: "/etc/initramfs-tools/conf.d/troupe.conf", content: INITRAMFS_CONF, mode: 0o644 },
      { path: "/etc/initramfs-tools/hooks/troupe", content: INITRAMFS_HOOK, mode: 0o755 },
      { path: "/usr/local/sbin/troupe-password", content: PASSWORD_SCRIPT, mode: 0o755 },
      { path: "/etc/systemd/system/troupe-password.service", content: PASSWORD_UNIT, mode: 0o644 },
    ],
    links: [
      { path: `${WANTS}/troupe-password.service`, target: "/etc/systemd/system/troupe-password.service" },
      { path: "/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service", target: "/lib/systemd/system/serial-getty@.service" },
    ],
    remove: [],
  };
}

/** Parse `--for docker,lxd`: each must be a target; order and repeats do not matter. */
export function parseTargets(text: string): Target[] {
  const parts = text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  const bad = parts.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (bad.length || parts.length === 0) {
    throw new TroupeError(
      "E_USAGE",
      `--for: ${bad.length ? `unknown target ${bad.join(", ")}` : "no target"} (known: ${TARGETS.join(", ")})`,
    );
  }
  return TARGETS.filter((t) => parts.includes(t));
}

/** What an output may be called (`--as`): a docker repository name, an LXD alias and a file name alike. */
export const OUTPUT_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Check an output name (E_USAGE when it cannot be one). */
export function outputName(name: string): string {
  if (!OUTPUT_NAME.test(name)) {
    throw new TroupeError("E_USAGE", `image: ${JSON.stringify(name)} cannot name an image (lower-case letters, digits, '.', '_', '-')`);
  }
  return name;
}

/**
 * The aliases an LXD image gets: those the lxd backend looks up for a
 * system of that name (`debian/12` and `debian-12` for debian-12,
 * `ubuntu/16.04` and `ubuntu-16.04` for an image built `--as ubuntu-16.04`).
 */
export function lxdAliases(recipe: Recipe, name: string = recipe.name): string[] {
  return lxdImageAliases(name);
}
