// The network of a moto account for lab stand-ins: a VPC on the lab's
// range (10.213.0.0/16) and a subnet of it, so that the private addresses
// moto gives instances are addresses lab hosts can take.

import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import type { Moto } from "./moto.js";

/** A client of moto, as the tests' own code uses it (troupe's goes through its own). */
export function motoClient(moto: Moto): EC2Client {
  return new EC2Client({
    endpoint: moto.url,
    region: moto.env["AWS_REGION"] ?? "eu-west-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
}

/**
 * A subnet `cidr` (within 10.213.0.0/16, e.g. 10.213.2.0/24: moto hands out
 * its addresses from the fourth one up) in a new VPC on the lab's range.
 */
export async function labSubnet(moto: Moto, cidr: string): Promise<string> {
  const c = motoClient(moto);
  try {
    const vpc = await c.send(new CreateVpcCommand({ CidrBlock: "10.213.0.0/16" }));
    const sub = await c.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: cidr }));
    return sub.Subnet!.SubnetId!;
  } finally {
    c.destroy();
  }
}
