// `troupe gc` (and Spread's `spread -gc`) for EC2: troupe's instances
// (tag troupe=1) that are not terminated, in the regions of
// TROUPE_EC2_REGIONS (comma-separated) or else the AWS configuration's
// region, deleted when their halt time has passed or their run is known
// dead (cloud/owner.ts decides, from the tags). Nothing is asked of AWS
// where nothing of AWS is configured: no credentials chain is probed.

import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Collector, Leftover } from "../../gc/collector.js";
import { LABEL_RUN } from "../../gc/owner.js";
import { cloudCollectable } from "../cloud/owner.js";
import { classifyEc2Error, configuredRegion, ec2Client, loadEc2Sdk } from "./client.js";

const AWS_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_PROFILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_EC2",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "TROUPE_EC2_REGIONS",
];

/** Whether anything of AWS is configured here (variables, ~/.aws). */
export function awsConfigured(env: NodeJS.ProcessEnv = process.env, home = homedir()): boolean {
  if (AWS_VARIABLES.some((v) => env[v])) return true;
  const files = [
    env["AWS_CONFIG_FILE"] ?? join(home, ".aws", "config"),
    env["AWS_SHARED_CREDENTIALS_FILE"] ?? join(home, ".aws", "credentials"),
  ];
  return files.some((f) => existsSync(f));
}

/** The regions gc looks in. */
async function gcRegions(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const listed = (env["TROUPE_EC2_REGIONS"] ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  if (listed.length > 0) return listed;
  const r = await configuredRegion();
  return r ? [r] : [];
}

export const ec2Collector: Collector = {
  type: "ec2",

  async find(options) {
    if (!awsConfigured()) return { unavailable: "no AWS configuration here (AWS_* variables, ~/.aws)" };
    const regions = await gcRegions();
    if (regions.length === 0) return { unavailable: "no region: set AWS_REGION, or TROUPE_EC2_REGIONS=REGION,..." };
    const { DescribeInstancesCommand } = await loadEc2Sdk();
    const found: Leftover[] = [];
    for (const region of regions) {
      const client = await ec2Client(region);
      let token: string | undefined;
      do {
        let out;
        try {
          out = await client.send(
            new DescribeInstancesCommand({
              Filters: [
                { Name: "tag:troupe", Values: ["1"] },
                { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
              ],
              ...(token ? { NextToken: token } : {}),
            }),
            options.signal ? { abortSignal: options.signal } : {},
          );
        } catch (err) {
          const f = classifyEc2Error(err);
          if (f.kind === "credentials" || f.kind === "unreachable") return { unavailable: `${f.code ? `${f.code}: ` : ""}${f.reason}` };
          throw err;
        }
        token = out.NextToken;
        for (const inst of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
          if (!inst.InstanceId) continue;
          const tags = Object.fromEntries((inst.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
          const because = cloudCollectable(tags);
          const reason = because ?? (options.all ? "--all: its run may still be going" : undefined);
          if (!reason) continue;
          const run = tags[LABEL_RUN];
          found.push({
            type: "ec2",
            kind: "instance",
            id: `${region}/${inst.InstanceId}`,
            name: `${inst.InstanceId}${tags["Name"] ? ` (${tags["Name"]})` : ""} in ${region}`,
            ...(run ? { run } : {}),
            reason,
          });
        }
      } while (token);
    }
    return found;
  },

  async remove(leftover) {
    const [region, id] = leftover.id.split("/");
    if (!region || !id) return;
    const { TerminateInstancesCommand } = await loadEc2Sdk();
    try {
      await (await ec2Client(region)).send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    } catch (err) {
      if (classifyEc2Error(err).code !== "InvalidInstanceID.NotFound") throw err;
    }
  },
};
