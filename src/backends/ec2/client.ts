// The EC2 API through AWS's own SDK, loaded only when an ec2 backend or its
// collector runs. Credentials come from the SDK's default chain
// (environment, shared config and credentials files with AWS_PROFILE, SSO,
// web identity, the instance's role); the endpoint from the SDK's own
// settings too (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_EC2: how tests point it
// at moto). Errors are sorted by the SDK's error names and codes, never by
// their text.

import type * as Ec2SdkModule from "@aws-sdk/client-ec2";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { CloudFailure, CloudErrorKind } from "../cloud/errors.js";
import { errorText } from "../../util/text.js";

export type Ec2Sdk = typeof Ec2SdkModule;

let sdk: Promise<Ec2Sdk> | undefined;

/** The SDK, loaded once. */
export function loadEc2Sdk(): Promise<Ec2Sdk> {
  // troupe pins the SDK: its notice about future Node versions is not the user's to act on.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  sdk ??= import("@aws-sdk/client-ec2");
  return sdk;
}

const clients = new Map<string, EC2Client>();

/** One client per region (undefined: the SDK's configured region). */
export async function ec2Client(region: string | undefined): Promise<EC2Client> {
  const key = region ?? "";
  let c = clients.get(key);
  if (!c) {
    const { EC2Client } = await loadEc2Sdk();
    // troupe's own backoff (cloud/backoff.ts) decides on retries, with the fleet's view of the run.
    c = new EC2Client({ ...(region ? { region } : {}), maxAttempts: 2 });
    clients.set(key, c);
  }
  return c;
}

/** The region a client without one uses (AWS_REGION, the profile's), or undefined when none is configured. */
export async function configuredRegion(): Promise<string | undefined> {
  try {
    const c = await ec2Client(undefined);
    return await c.config.region();
  } catch {
    return undefined;
  }
}

const THROTTLE = new Set(["RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException", "SlowDown"]);
const QUOTA = new Set([
  "InstanceLimitExceeded",
  "VcpuLimitExceeded",
  "MaxSpotInstanceCountExceeded",
  "VolumeLimitExceeded",
  "AddressLimitExceeded",
  "ResourceLimitExceeded",
]);
const CAPACITY = new Set([
  "InsufficientInstanceCapacity",
  "InsufficientCapacity",
  "InsufficientHostCapacity",
  "SpotMaxPriceTooLow",
  "Unsupported",
]);
const PERMISSION = new Set(["UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "OptInRequired", "Blocked"]);
const CREDENTIALS = new Set([
  "CredentialsProviderError",
  "AuthFailure",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
  "UnrecognizedClientException",
]);
const NETWORK = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "TimeoutError",
]);

interface SdkError {
  readonly name?: string;
  readonly code?: string;
  readonly Code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $fault?: string;
}

/** What an EC2 API error means. */
export function classifyEc2Error(err: unknown): CloudFailure {
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkError;
  const code = e.Code ?? (e.name && e.name !== "Error" ? e.name : undefined) ?? e.code;
  const reason = (e.message ?? errorText(err)).split("\n")[0] ?? "";
  const kind = ((): CloudErrorKind => {
    if (!code) return "other";
    if (THROTTLE.has(code)) return "throttle";
    if (QUOTA.has(code)) return "quota";
    if (CAPACITY.has(code)) return "capacity";
    if (PERMISSION.has(code)) return "permission";
    if (CREDENTIALS.has(code)) return "credentials";
    if (NETWORK.has(code)) return "unreachable";
    if (/\.NotFound$|^InvalidAMIID\.|^InvalidParameterValue$|^InvalidInstanceType$/.test(code)) return "not-found";
    if (e.$fault === "server" || (e.$metadata?.httpStatusCode ?? 0) >= 500) return "transient";
    return "other";
  })();
  return { kind, ...(code ? { code } : {}), reason };
}
