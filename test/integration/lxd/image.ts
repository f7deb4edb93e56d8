// The LXD image the lxd tests launch: Debian bookworm under the alias
// `troupe-test-debian-12` (test projects say `image: troupe-test-debian-12`,
// so that a `debian-12` of someone else's on a shared machine is never what
// a test runs), made once from a root filesystem tarball (TROUPE_TEST_ROOTFS,
// by default the shared development one: a debootstrap minbase with
// openssh-server, systemd-sysv, iproute2, procps and sudo), with the
// properties by which Spread's own lookup takes it for `debian-12`. When
// `troupe image build` exists, `ensureImage` becomes a call to it. Under
// `flock`: test files run in parallel and share the image.

import { execFileSync } from "node:child_process";
import { clientSetup } from "../../../src/backends/lxd/client.js";
import { lxdImageAliases, spreadImageProperties } from "../../../src/backends/lxd/images.js";
import { testRootfs } from "../images/store.js";
import { shQuote } from "../../../src/exec/shell-quote.js";

/** The environment that points `lxc` at the LXD troupe's backend finds. */
export function lxdEnv(): NodeJS.ProcessEnv {
  const setup = clientSetup();
  if (!setup) throw new Error("lxc is not installed: apt-get install lxd");
  return { ...process.env, ...setup.env };
}

/** Run `lxc` on the backend's LXD. */
export function lxc(args: readonly string[]): string {
  return execFileSync("lxc", [...args], { env: lxdEnv(), encoding: "utf8" });
}

/**
 * What the image needs besides the root filesystem: DHCP on eth0 by
 * systemd-networkd, which otherwise waits forever for a udev that does not
 * run in a container (it takes a writable /sys for udev's presence; a
 * read-only /sys for networkd alone tells it otherwise); a hostname; and a
 * `killall`, which Spread's lxd backend runs to make sshd reload (psmisc is
 * not in a minbase): here pkill, which procps has.
 */
function imageScript(alias: string, system: string): string {
  // debian-12's root filesystem from the test store (TROUPE_TEST_ROOTFS overrides it).
  const ROOTFS = testRootfs();
  const props = { ...spreadImageProperties(system), description: `${system} (troupe test image)` };
  const release = system === "debian-12" ? "bookworm" : system;
  const yaml = [
    "architecture: x86_64",
    `creation_date: ${Math.floor(Date.now() / 1000)}`,
    "properties:",
    ...Object.entries({ ...props, release }).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    "templates:",
    "  /etc/hostname:",
    "    when: [create, copy]",
    "    template: hostname.tpl",
    "  /etc/hosts:",
    "    when: [create, copy]",
    "    template: hosts.tpl",
  ].join("\n");
  return `set -eu
if lxc image info ${shQuote(alias)} >/dev/null 2>&1; then exit 0; fi
test -f ${shQuote(ROOTFS)} || { echo "no root filesystem tarball at ${ROOTFS} (set TROUPE_TEST_ROOTFS)" >&2; exit 1; }
w=$(mktemp -d /var/tmp/troupe-lxd-image.XXXXXX)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/ov/usr/local/bin" "$w/ov/etc/systemd/network" "$w/ov/etc/systemd/system/multi-user.target.wants" \\
  "$w/ov/etc/systemd/system/sockets.target.wants" "$w/ov/etc/systemd/system/systemd-networkd.service.d" "$w/meta/templates"
printf '[Match]\\nName=eth0\\n[Network]\\nDHCP=ipv4\\n' > "$w/ov/etc/systemd/network/10-eth0.network"
printf '[Service]\\nReadOnlyPaths=/sys\\n' > "$w/ov/etc/systemd/system/systemd-networkd.service.d/10-no-udev.conf"
ln -s /lib/systemd/system/systemd-networkd.service "$w/ov/etc/systemd/system/multi-user.target.wants/"
ln -s /lib/systemd/system/systemd-networkd.socket "$w/ov/etc/systemd/system/sockets.target.wants/"
printf '#!/bin/sh\n# killall SIGNAL NAME, for Spread: pkill from procps\nexec pkill "$1" -x "$2"\n' > "$w/ov/usr/local/bin/killall"
chmod 755 "$w/ov/usr/local/bin/killall"
cat > "$w/meta/metadata.yaml" <<'EOF'
${yaml}
EOF
echo '{{ container.name }}' > "$w/meta/templates/hostname.tpl"
printf '127.0.0.1 localhost\\n127.0.1.1 {{ container.name }}\\n' > "$w/meta/templates/hosts.tpl"
tar -C "$w/meta" -czf "$w/metadata.tar.gz" metadata.yaml templates
cp ${shQuote(ROOTFS)} "$w/rootfs.tar"
tar --append -f "$w/rootfs.tar" -C "$w/ov" ./etc/systemd ./usr/local/bin/killall
lxc image import "$w/metadata.tar.gz" "$w/rootfs.tar" --alias ${shQuote(alias)} >/dev/null
`;
}

/** The test image's alias. */
export const TEST_IMAGE = "troupe-test-debian-12";

/**
 * Make sure the test image is there (alias TEST_IMAGE), with the properties
 * by which Spread's own lookup takes it for `debian-12`.
 */
export function ensureImage(): void {
  execFileSync("flock", ["/run/troupe-lxd-test-image.lock", "sh", "-c", imageScript(TEST_IMAGE, "debian-12")], {
    env: lxdEnv(),
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/**
 * Make the test image the image of `system` too, under the aliases the
 * backend looks up for it (the same files, no copy), unless `system` has an
 * image already: for projects that name other systems.
 */
export function aliasImage(system: string): void {
  ensureImage();
  const target = (JSON.parse(lxc(["query", `/1.0/images/aliases/${TEST_IMAGE}`])) as { target: string }).target;
  const script = lxdImageAliases(system)
    .map((a) => `lxc image info ${shQuote(a)} >/dev/null 2>&1 || lxc image alias create ${shQuote(a)} ${shQuote(target)} >/dev/null`)
    .join("\n");
  execFileSync("flock", ["/run/troupe-lxd-test-image.lock", "sh", "-c", `set -eu\n${script}`], {
    env: lxdEnv(),
    stdio: ["ignore", "ignore", "inherit"],
  });
}
