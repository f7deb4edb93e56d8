// The keys of an ec2 backend and its systems, read once per system with
// positions for bad values. Spread's names where Spread has one:
//
//   location        the region (eu-west-1); default: the AWS configuration's region
//   plan            the instance type (default t3.micro)
//   image (system)  an AMI id (ami-...) or an AMI name, `*` wildcards allowed: the newest match
//   image-owners    whose AMIs a name may match (default: self and amazon; Canonical is 099720109477)
//   storage         the root volume's size (e.g. 20G)
//   subnet          a subnet id (default: the region's default VPC)
//   security-groups security group ids
//   key-name        an EC2 key pair given to the instance; with identity-file, troupe
//                   logs in with that key as `username` (default: a key of the run's own,
//                   given to root by user-data)
//   spot            true: spot instances (one-time, terminated on interruption)
//   address         public or private (default: public when the instance has one)
//   username        who troupe logs in as (default root; sudo when not root)
//
// A system's own value wins over its backend's.

import { homedir } from "node:os";
import { resolve } from "node:path";
import type { Backend, System } from "../../model/project.js";
import { TroupeError } from "../../util/errors.js";

export interface Ec2SystemConfig {
  /** `backend:system`, for messages. */
  readonly label: string;
  /** Undefined: the SDK's own (AWS_REGION, the profile's region). */
  readonly region?: string;
  readonly image: string;
  readonly imageOwners: readonly string[];
  readonly instanceType: string;
  readonly storageGb?: number;
  readonly subnet?: string;
  readonly securityGroups: readonly string[];
  readonly keyName?: string;
  /** The private key of `keyName`, when troupe logs in with it. */
  readonly identityFile?: string;
  readonly spot: boolean;
  readonly address: "public" | "private" | "auto";
  readonly username: string;
}

export const DEFAULT_INSTANCE_TYPE = "t3.micro";
export const DEFAULT_IMAGE_OWNERS = ["self", "amazon"] as const;

type Source = { readonly system: System; readonly backend: Backend };

function where(s: Source, key: string): { pos: System["pos"]; path: string } {
  const inSystem = s.system.extra[key] !== undefined || key === "image" || key === "username";
  return inSystem
    ? { pos: s.system.where[key] ?? s.system.pos, path: `backends.${s.backend.name}.systems.${s.system.name}.${key}` }
    : { pos: s.backend.where[key] ?? s.backend.pos, path: `backends.${s.backend.name}.${key}` };
}

function value(s: Source, key: string): unknown {
  return s.system.extra[key] ?? s.backend.extra[key];
}

function bad(s: Source, key: string, message: string): TroupeError {
  return new TroupeError("E_PROJECT", { ...where(s, key), message });
}

function str(s: Source, key: string): string | undefined {
  const v = value(s, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" && typeof v !== "number") throw bad(s, key, "must be a string");
  return String(v);
}

function list(s: Source, key: string): string[] | undefined {
  const v = value(s, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  throw bad(s, key, "must be a list of strings");
}

/** `20G`, `20GB`, `512M`, plain bytes: whole GiB, at least 1. */
function gib(s: Source, key: string): number | undefined {
  const v = str(s, key);
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(v.trim());
  if (!m) throw bad(s, key, `must be a size such as 20G, not ${JSON.stringify(v)}`);
  const mult: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
  const bytes = Number(m[1]) * (mult[(m[2] ?? "").toUpperCase()] ?? 1);
  return Math.max(1, Math.ceil(bytes / 2 ** 30));
}

export function ec2SystemConfig(backend: Backend, system: System, home = homedir()): Ec2SystemConfig {
  const s: Source = { system, backend };
  const label = `${backend.name}:${system.name}`;
  const spot = value(s, "spot");
  if (spot !== undefined && typeof spot !== "boolean") throw bad(s, "spot", "must be true or false");
  const address = str(s, "address") ?? "auto";
  if (address !== "public" && address !== "private" && address !== "auto") {
    throw bad(s, "address", `is public or private, not ${JSON.stringify(address)}`);
  }
  const keyName = str(s, "key-name");
  const identity = str(s, "identity-file");
  if (identity !== undefined && keyName === undefined) {
    throw bad(s, "identity-file", "is the private key of key-name: set key-name too, or drop it to use a key of the run's own");
  }
  const region = str(s, "location");
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw bad(s, "location", `is an AWS region such as eu-west-1, not ${JSON.stringify(region)}`);
  }
  const image = system.image;
  if (!image) throw bad(s, "image", "is an AMI id (ami-...) or an AMI name such as debian-12-amd64-*");
  const storageGb = gib(s, "storage");
  const subnet = str(s, "subnet");
  return {
    label,
    ...(region !== undefined ? { region } : {}),
    image,
    imageOwners: list(s, "image-owners") ?? [...DEFAULT_IMAGE_OWNERS],
    instanceType: str(s, "plan") ?? DEFAULT_INSTANCE_TYPE,
    ...(storageGb !== undefined ? { storageGb } : {}),
    ...(subnet !== undefined ? { subnet } : {}),
    securityGroups: list(s, "security-groups") ?? [],
    ...(keyName !== undefined ? { keyName } : {}),
    ...(identity !== undefined ? { identityFile: resolve(identity.replace(/^~(?=\/|$)/, home)) } : {}),
    spot: spot === true,
    address,
    username: system.username ?? "root",
  };
}
