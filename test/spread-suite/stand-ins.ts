// What stands in, in the run of Spread's own tests (run.ts), for what this
// machine is not: Spread's CI machine (Ubuntu 20.04, nested KVM, internet).
// Each is written into the run's work directory, never installed:
// - python/sitecustomize.py: Spread's CI has PyYAML 5, whose `yaml.load(stream)`
//   tests/adhoc calls; PyYAML 6 (Debian 12) wants a Loader: the safe loader
//   is its default here.
// - bin/kvm-ok (cpu-checker's): tests/qemu stops without KVM. This machine's
//   /dev/kvm is nested PVM, which cannot run a Debian kernel; troupe's qemu
//   backend runs the VM under TCG emulation and says so. The stand-in says
//   what the backend will use here, in the backend's words (accel.ts), and
//   exits 0.
// - bin/apt: tests/qemu installs autopkgtest and genisoimage for the next
//   command; its stand-in needs neither, and a test installs no packages.
// - bin/autopkgtest-buildvm-ubuntu-cloud: downloads an Ubuntu cloud image
//   (no internet here). Its stand-in makes autopkgtest-xenial-amd64.img in
//   the current directory from troupe's debian-12 qemu image with what the
//   cloud image has for Spread: a user ubuntu, password ubuntu, sudo without
//   a password (`troupe image build --user`, from the image store, offline,
//   in seconds). troupe's image boots its kernel directly: the kernel and
//   initrd go beside ~/.spread/qemu/ubuntu-16.04.img, where the task moves
//   the image.

import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { accelMessage, chooseAccel, hostFacts } from "../../src/backends/qemu/accel.js";
import { shQuote } from "../../src/exec/shell-quote.js";

const SITECUSTOMIZE = `# PyYAML 6 wants a Loader where Spread's tests (written on PyYAML 5) give none.
try:
    import yaml
    _load = yaml.load
    def _load_safe(stream, Loader=None):
        return _load(stream, Loader or yaml.SafeLoader)
    yaml.load = _load_safe
except ImportError:
    pass
`;

/** The stand-in for kvm-ok: what troupe's qemu backend will use here (`accel`, its own message), exit 0 either way. */
function kvmOk(accel: string): string {
  return `#!/bin/sh
# Stand-in for kvm-ok, written by troupe's run of Spread's tests (test/spread-suite/stand-ins.ts):
# the test stops unless the machine can run its VM, which troupe's qemu backend does with KVM or, slower, without.
echo ${shQuote(`kvm-ok (stand-in): ${accel}`)}
exit 0
`;
}

const APT = `#!/bin/sh
# Stand-in for apt, written by troupe's run of Spread's tests (test/spread-suite/stand-ins.ts).
if [ "$*" = "install -y autopkgtest genisoimage" ]; then
    echo "apt (stand-in): not installing autopkgtest genisoimage: the stand-in for autopkgtest-buildvm-ubuntu-cloud needs neither"
    exit 0
fi
echo "apt (stand-in): only 'apt install -y autopkgtest genisoimage' is stood in for, not: apt $*" >&2
exit 1
`;

/** The stand-in for autopkgtest-buildvm-ubuntu-cloud: `troupe image build` from `store`, run by `troupe` (a command line). */
function buildVm(troupe: string, store: string): string {
  return `#!/bin/sh
# Stand-in for autopkgtest-buildvm-ubuntu-cloud, written by troupe's run of Spread's tests
# (test/spread-suite/stand-ins.ts): troupe's debian-12 qemu image with a user ubuntu
# (password ubuntu, sudo without a password), made from the image store without a download.
set -eu
if [ "$*" != "-a amd64 -r xenial" ]; then
    echo "autopkgtest-buildvm-ubuntu-cloud (stand-in): only -a amd64 -r xenial is stood in for, not: $*" >&2
    exit 2
fi
build=$(mktemp -d "$PWD/.buildvm.XXXXXX")
trap 'rm -rf "$build"' EXIT
HOME=$build TROUPE_IMAGE_DIR=${shQuote(store)} ${troupe} image build debian-12 --for qemu --as ubuntu-16.04 --user ubuntu:ubuntu
mv "$build/.spread/qemu/ubuntu-16.04.img" autopkgtest-xenial-amd64.img
# The task moves the image to ~/.spread/qemu/ubuntu-16.04.img; its kernel and initrd go beside it.
mkdir -p "$HOME/.spread/qemu"
mv "$build/.spread/qemu/ubuntu-16.04.vmlinuz" "$build/.spread/qemu/ubuntu-16.04.initrd" "$HOME/.spread/qemu/"
echo "autopkgtest-buildvm-ubuntu-cloud (stand-in): made autopkgtest-xenial-amd64.img (debian-12 with user ubuntu), kernel and initrd in $HOME/.spread/qemu"
`;
}

function script(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

/**
 * Write the stand-ins into `work`: bin/ (for the outer PATH) and python/ (for
 * PYTHONPATH). `spread` runs `troupe spread`; `troupe` is the command line
 * that runs troupe; `store` is the image store the qemu image comes from.
 */
export function writeStandIns(work: string, troupe: string, store: string): void {
  mkdirSync(join(work, "bin"));
  script(join(work, "bin", "spread"), `#!/bin/sh\nexec ${troupe} spread "$@"\n`);
  script(join(work, "bin", "kvm-ok"), kvmOk(accelMessage(chooseAccel(hostFacts()))));
  script(join(work, "bin", "apt"), APT);
  script(join(work, "bin", "autopkgtest-buildvm-ubuntu-cloud"), buildVm(troupe, store));
  mkdirSync(join(work, "python"));
  writeFileSync(join(work, "python", "sitecustomize.py"), SITECUSTOMIZE);
}

/** The command line that runs troupe's CLI with this node. */
export function troupeCommand(node: string, cli: string): string {
  return `${shQuote(node)} ${shQuote(cli)}`;
}
