// The prologue every ec2 test file shares: moto started before the file's
// tests and stopped after them, optionally a VPC subnet on the lab's range
// with lab hosts standing in for the instances that appear in it, and
// questions the tests ask moto's EC2 about its instances.

import { after, before } from "node:test";
import { CreateTagsCommand, DescribeInstancesCommand, RunInstancesCommand, type Instance } from "@aws-sdk/client-ec2";
import { startMoto, type Moto } from "./moto.js";
import { StandIn } from "./stand-in.js";
import { labSubnet, motoClient } from "./vpc.js";

export interface MotoAccount {
  readonly moto: Moto;
  /** The subnet asked for (`subnet:` of useMoto). */
  readonly subnet: string;
  readonly standIn: StandIn;
  /** Every instance moto knows, terminated ones too. */
  readonly instances: () => Promise<Instance[]>;
  /** By reservation (one RunInstances call each). */
  readonly reservations: () => Promise<Instance[][]>;
  readonly stateOf: (id: string) => Promise<string | undefined>;
  /** An instance made by the test itself (not troupe), with these tags. */
  readonly launch: (tags: Readonly<Record<string, string>>) => Promise<string>;
}

/** An instance's tags as a record. */
export function tagsOf(i: Instance): Record<string, string> {
  return Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}

/**
 * Register the file's before/after hooks: moto, and with `subnet` that
 * subnet with lab stand-ins. Lab slots reach 10.213.3.238 (MAX_SLOTS), and
 * moto gives from the fourth address up: each file takes its own range
 * (suite 10.213.2.0/24, play-fleet 10.213.3.0/25, reuse 10.213.3.192/27,
 * experiment image 10.213.3.224/28).
 */
export function useMoto(o: { readonly subnet?: string } = {}): MotoAccount {
  let moto: Moto | undefined;
  let subnet: string | undefined;
  let standIn: StandIn | undefined;
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what}: not set up (useMoto(${o.subnet ? "" : "{ subnet }"}) in this file)`);
    return v;
  };
  before(async () => {
    moto = await startMoto();
    if (o.subnet) {
      subnet = await labSubnet(moto, o.subnet);
      standIn = new StandIn(moto);
      standIn.start();
    }
  });
  after(async () => {
    await standIn?.stop();
    await moto?.stop();
  });
  const ask = async <T>(fn: (c: ReturnType<typeof motoClient>) => Promise<T>): Promise<T> => {
    const c = motoClient(need(moto, "moto"));
    try {
      return await fn(c);
    } finally {
      c.destroy();
    }
  };
  const reservations = (): Promise<Instance[][]> =>
    ask(async (c) => ((await c.send(new DescribeInstancesCommand({}))).Reservations ?? []).map((r) => r.Instances ?? []));
  const instances = async (): Promise<Instance[]> => (await reservations()).flat();
  return {
    get moto() {
      return need(moto, "moto");
    },
    get subnet() {
      return need(subnet, "subnet");
    },
    get standIn() {
      return need(standIn, "stand-ins");
    },
    instances,
    reservations,
    stateOf: async (id) => (await instances()).find((i) => i.InstanceId === id)?.State?.Name,
    launch: (tags) =>
      ask(async (c) => {
        const out = await c.send(new RunInstancesCommand({ ImageId: "ami-1e749f67", MinCount: 1, MaxCount: 1 }));
        const id = out.Instances![0]!.InstanceId!;
        const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
        if (list.length) await c.send(new CreateTagsCommand({ Resources: [id], Tags: list }));
        return id;
      }),
  };
}
