// tezos.start_node, tezos.start_dal_node, tezos.start_baker: octez daemons
// as the scenario's services (stopped at the end, their process groups
// killed), named so that `self://NAME` and `HOST://NAME` are their RPC
// endpoints. Each gets a data directory `NAME.data` in the scenario
// directory, configured with the binary's own `config init`.

import * as z from "zod";
import { text } from "../../config/schema/common.js";
import { jobKind } from "../plugin.js";
import { command, DEFAULT_PORTS, findBinary, int } from "./shell.js";

const cryptobox = z.strictObject({ number_of_shards: text, page_size: text, slot_size: text, redundancy_factor: text });

/** What the plugin remembers of a node started on a host: by name. */
export interface NodeRecord {
  readonly dataDir: string;
  readonly rpc: number;
}
export function nodes(state: Map<string, unknown>): Map<string, NodeRecord> {
  let m = state.get("tezos.nodes") as Map<string, NodeRecord> | undefined;
  if (!m) state.set("tezos.nodes", (m = new Map()));
  return m;
}

export const startNode = jobKind({
  summary: "configure and run an octez-node (path_node), as service NAME",
  args: z.strictObject({
    name: text.optional(),
    path_node: text.describe("the octez-node binary: self://path, HOST://path or a URL"),
    network: text.optional().describe("sandbox, mainnet, a URL, ..."),
    snapshot: text.optional(),
    synchronization_threshold: z.number().int().min(0).optional(),
    peers: z.array(text).optional(),
    net_port: text.optional(),
    metrics_port: text.optional(),
    rpc_port: text.optional(),
    dal_cryptobox_parameters: cryptobox.optional(),
  }),
  async run(ctx, a) {
    const name = a.name ?? "node";
    const bin = await ctx.file(a.path_node);
    const rpc = int(a.rpc_port, "rpc_port", DEFAULT_PORTS.nodeRpc);
    const net = int(a.net_port, "net_port", DEFAULT_PORTS.nodeNet);
    const metrics = int(a.metrics_port, "metrics_port", DEFAULT_PORTS.nodeMetrics);
    const dataDir = `${ctx.host.dir}/${name}.data`;
    const sync = String(a.synchronization_threshold ?? 2);
    const peers = (a.peers ?? []).flatMap((p) => ["--peer", p]);
    let script =
      command(bin, "config", "init", "--data-dir", dataDir, "--network", a.network ?? "sandbox") +
      " " +
      command(
        "--net-addr",
        `0.0.0.0:${net}`,
        "--rpc-addr",
        `0.0.0.0:${rpc}`,
        "--metrics-addr",
        `0.0.0.0:${metrics}`,
        "--expected-pow",
        "0",
        "--synchronisation-threshold",
        sync,
        ...peers,
      );
    // dal_cryptobox_parameters are checked; the node's config file is left as `config init` writes it
    // (Octogram edits it through Tezt's OCaml library: see docs/scenarios.md).
    if (a.snapshot) {
      const snapshot = await ctx.file(a.snapshot);
      script += `\n${command(bin, "snapshot", "import", "--no-check", "--data-dir", dataDir, snapshot)}`;
    }
    await ctx.sh(`rm -rf ${command(dataDir)}\n${script}`);
    await ctx.service({
      name,
      command: `exec ${command(bin, "run", "--data-dir", dataDir, "--synchronisation-threshold", sync, ...peers)}`,
      endpoint: `http://${ctx.host.addr}:${rpc}`,
      metrics: `http://${ctx.host.addr}:${metrics}/metrics`,
    });
    nodes(ctx.state).set(name, { dataDir, rpc });
    return { name, rpc_port: rpc, metrics_port: metrics, net_port: net };
  },
});

export const startDalNode = jobKind({
  summary: "configure and run an octez-dal-node (path_node) attached to an L1 node, as service NAME",
  args: z.strictObject({
    name: text.optional(),
    path_node: text,
    rpc_port: text.optional(),
    metrics_port: text.optional(),
    net_port: text.optional(),
    l1_node_uri: text.describe("the L1 node: self://NAME, HOST://NAME or a URL"),
    peers: z.array(text).optional(),
    bootstrap_profile: z.boolean().optional(),
    attester_profiles: z.array(text).optional().describe("public key hashes, or aliases of the wallet base_dir"),
    producer_profiles: z.array(text).optional().describe("slot indexes"),
    path_client: text.optional(),
    base_dir: text.optional(),
  }),
  async run(ctx, a) {
    const name = a.name ?? "dal-node";
    const bin = await ctx.file(a.path_node);
    const rpc = int(a.rpc_port, "rpc_port", DEFAULT_PORTS.dalRpc);
    const net = int(a.net_port, "net_port", DEFAULT_PORTS.dalNet);
    const metrics = int(a.metrics_port, "metrics_port", DEFAULT_PORTS.dalMetrics);
    const l1 = ctx.endpoint(a.l1_node_uri);
    // Aliases become public key hashes, as Octogram does with the client.
    const attesters: string[] = [];
    for (const who of a.attester_profiles ?? []) {
      if (/^tz[1-4][1-9A-HJ-NP-Za-km-z]{33}$/.test(who)) {
        attesters.push(who);
        continue;
      }
      if (!a.path_client || !a.base_dir)
        throw new Error(`attester profile ${who} is an alias: give path_client and base_dir to find its public key hash`);
      const client = await ctx.file(a.path_client);
      const baseDir = await ctx.file(a.base_dir);
      const { stdout } = await ctx.sh(command(client, "--base-dir", baseDir, "show", "address", who));
      const hash = /Hash:\s*(\S+)/.exec(stdout)?.[1];
      if (!hash) throw new Error(`cannot read the public key hash of ${who} from: ${stdout.trim()}`);
      attesters.push(hash);
    }
    for (const p of a.producer_profiles ?? []) int(p, "producer_profiles");
    const dataDir = `${ctx.host.dir}/${name}.data`;
    const args = [
      "--rpc-addr",
      `0.0.0.0:${rpc}`,
      "--net-addr",
      `0.0.0.0:${net}`,
      "--metrics-addr",
      `0.0.0.0:${metrics}`,
      "--endpoint",
      l1,
      "--expected-pow",
      "0",
      ...(a.peers?.length ? ["--peers", a.peers.join(",")] : []),
      ...(attesters.length ? ["--attester-profiles", attesters.join(",")] : []),
      ...(a.producer_profiles?.length ? ["--operator-profiles", a.producer_profiles.join(",")] : []),
    ];
    await ctx.sh(
      `rm -rf ${command(dataDir)}\n${command(bin, "config", "init", "--data-dir", dataDir, ...args)}${a.bootstrap_profile ? " --bootstrap-profile" : ""}`,
    );
    await ctx.service({
      name,
      command: `exec ${command(bin, "run", "--data-dir", dataDir)}`,
      endpoint: `http://${ctx.host.addr}:${rpc}`,
      metrics: `http://${ctx.host.addr}:${metrics}/metrics`,
    });
    return { name, rpc_port: rpc, metrics_port: metrics, net_port: net };
  },
});

export const startBaker = jobKind({
  summary: "run an octez baker for delegates of a wallet, against an L1 node (and a DAL node), as service NAME",
  args: z.strictObject({
    name: text.optional(),
    protocol: text.optional().describe("alpha by default"),
    base_dir: text.describe("the wallet"),
    node_uri: text,
    node_data_dir: text.optional(),
    dal_node_uri: text.optional(),
    delegates: z.array(text).optional(),
    baker_path: text.optional(),
  }),
  async run(ctx, a) {
    const name = a.name ?? "baker";
    const protocol = a.protocol ?? "alpha";
    const own = /^self:\/\/([^/]+)$/.exec(a.node_uri)?.[1];
    const node = own === undefined ? undefined : nodes(ctx.state).get(own);
    if (node && a.node_data_dir) throw new Error("give node_data_dir only for a node that is not started by this host's tezos.start_node");
    if (!node && !a.node_data_dir) throw new Error(`node_uri ${a.node_uri} is not a node started on this host: give its node_data_dir`);
    const dataDir = node ? node.dataDir : await ctx.file(a.node_data_dir!);
    const baker = a.baker_path
      ? await ctx.file(a.baker_path)
      : await findBinary(ctx, [`octez-baker-${protocol}`, "octez-baker"], "baker_path");
    const baseDir = await ctx.file(a.base_dir);
    await ctx.service({
      name,
      command:
        "exec " +
        command(
          baker,
          "--endpoint",
          ctx.endpoint(a.node_uri),
          "--base-dir",
          baseDir,
          "run",
          "with",
          "local",
          "node",
          dataDir,
          ...(a.delegates ?? []),
        ) +
        (a.dal_node_uri ? " " + command("--dal-node", ctx.endpoint(a.dal_node_uri)) : ""),
    });
    return { name };
  },
});
