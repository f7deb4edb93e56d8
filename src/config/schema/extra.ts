// Keys that only some backend types read. They are accepted everywhere a
// Spread project may write them and land in `Backend.extra` / `System.extra`
// under their YAML name. A new backend type that needs its own keys adds them
// here, so that unknown-key detection keeps working for everything else.

import * as z from "zod";
import { size, text, textInput, textList } from "./common.js";

/** A bind mount: `HOST:CONTAINER` or `HOST:CONTAINER:ro` (or `:rw`), both absolute. */
const MOUNT = /^\/[^:]*:\/[^:]*(?::(?:ro|rw))?$/;

/** docker: keys of a backend or a system (see src/backends/docker/options.ts). */
function dockerKeys() {
  return {
    transport: z
      .enum(["exec", "ssh"], { error: () => "transport is exec (the engine's exec, the default) or ssh (the image runs sshd)" })
      .optional(),
    privileged: z.boolean().optional(),
    capabilities: z.array(z.string().regex(/^(?:CAP_)?[A-Z_]+$|^ALL$/i, "capabilities are names like NET_ADMIN or SYS_PTRACE")).optional(),
    mounts: z.array(z.string().regex(MOUNT, "mounts look like /host/dir:/container/dir or /host/dir:/container/dir:ro")).optional(),
    network: text.optional(),
    cpus: z.number().positive("cpus is a positive number, such as 1.5").optional(),
    "container-env": z
      .record(z.string(), textInput)
      .refine((env) => Object.keys(env).every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)), {
        message: "container-env names are letters, digits and _, not starting with a digit",
      })
      .optional(),
    init: z
      .enum(["docker", "image"], {
        error: () => "init is docker (a small init runs `sleep infinity`, the default) or image (the image's own command)",
      })
      .optional(),
  };
}

/**
 * troupe's own backends' keys. ssh: the driver checks their types and shapes
 * itself, with positions (src/backends/ssh/config.ts); lab: `tmpfs-size`
 * (e.g. 512M) and `boot-timeout` (a duration); qemu: `boot-timeout`, `cpus`
 * (docker's key, a positive number), and a kernel booted directly (`kernel`, `initrd`, `append`), checked by
 * src/backends/qemu/config.ts.
 */
function troupeBackendKeys() {
  return {
    inventory: z.unknown().optional(),
    "ssh-options": z.unknown().optional(),
    "tmpfs-size": text.optional(),
    "boot-timeout": text.optional(),
    initrd: text.optional(),
    append: text.optional(),
    ...dockerKeys(),
    ...ec2Keys(),
  };
}

/** ec2 and google: what the cloud fleet reads (src/backends/cloud/settings.ts), checked there with positions. */
function cloudBackendKeys() {
  return {
    "max-hosts": z.unknown().optional(),
    "max-hours": z.unknown().optional(),
    partial: z.unknown().optional(),
    "api-concurrency": z.unknown().optional(),
  };
}

/** ec2: keys a backend or a system may set (src/backends/ec2/config.ts checks them, with positions). */
function ec2Keys() {
  return {
    subnet: z.unknown().optional(),
    "security-groups": z.unknown().optional(),
    "key-name": z.unknown().optional(),
    "image-owners": z.unknown().optional(),
    spot: z.unknown().optional(),
    address: z.unknown().optional(),
  };
}

function troupeSystemKeys() {
  return {
    ...troupeBackendKeys(),
    hosts: z.unknown().optional(),
    group: z.unknown().optional(),
    sudo: z.unknown().optional(),
    "identity-file": z.unknown().optional(),
    // qemu: a system's own memory, over the backend's (Spread's).
    memory: size.optional(),
  };
}

/** Spread: memory (qemu), plan/location/storage (linode, google, openstack, humbox), account/endpoint/networks/groups (openstack). */
export const backendExtraFields = {
  memory: size.optional(),
  plan: text.optional(),
  location: text.optional(),
  storage: size.optional(),
  account: text.optional(),
  endpoint: text.optional(),
  networks: textList.optional(),
  groups: textList.optional(),
  // qemu: a kernel booted directly by every system of the backend (Spread's is a system key).
  kernel: text.optional(),
  ...troupeBackendKeys(),
  ...cloudBackendKeys(),
};

/** Spread: kernel (linode), storage/plan (linode, google), networks/groups (openstack), secure-boot/cpu-family (google), bios (qemu). */
export const systemExtraFields = {
  kernel: text.optional(),
  storage: size.optional(),
  plan: text.optional(),
  networks: textList.optional(),
  groups: textList.optional(),
  "secure-boot": z.boolean().optional(),
  bios: text.optional(),
  "cpu-family": text.optional(),
  ...troupeSystemKeys(),
};

/** A system without its own value takes the backend's (Spread cascades these four). */
export const CASCADED_TO_SYSTEMS = ["storage", "plan", "networks", "groups"] as const;
