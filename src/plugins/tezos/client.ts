// tezos.generate_keys, tezos.activate_protocol, tezos.wait_for_bootstrapped,
// tezos.publish_dal_slot: octez-client (path_client) against a node's RPC
// endpoint (`self://NAME`, `HOST://NAME`, or a URL).

import * as z from "zod";
import { text } from "../../config/schema/common.js";
import { shQuote } from "../../exec/shell-quote.js";
import { jobKind } from "../plugin.js";
import { command, HTTP_FUNCTION, int, PROTOCOL_HASHES } from "./shell.js";

export const generateKeys = jobKind({
  summary: "generate COUNT fresh keys with octez-client stresstest gen keys into a wallet (base_dir)",
  args: z.strictObject({
    base_dir: text,
    kind: z
      .union([
        z.strictObject({
          fresh: z.strictObject({ count: z.number().int().min(0).max(65535), path_client: text, alias_prefix: text.optional() }),
        }),
        z.strictObject({ default: z.unknown() }),
      ])
      .optional(),
  }),
  async run(ctx, a) {
    const baseDir = ctx.localPath(a.base_dir);
    if (!a.kind || !("fresh" in a.kind)) {
      throw new Error(
        "kind: default (Tezt's bootstrap keys) is not provided by troupe's tezos plugin: write kind: {fresh: {count, path_client}}",
      );
    }
    const f = a.kind.fresh;
    const client = await ctx.file(f.path_client);
    await ctx.sh(
      `mkdir -p ${shQuote(baseDir)}\n` +
        command(client, "--base-dir", baseDir, "stresstest", "gen", "keys", String(f.count), "--alias-prefix", f.alias_prefix ?? "boot"),
    );
  },
});

export const activateProtocol = jobKind({
  summary: "activate a protocol with a parameters file through a node",
  args: z.strictObject({ endpoint: text, path_client: text, protocol: text, parameter_file: text }),
  async run(ctx, a) {
    const hash = PROTOCOL_HASHES[a.protocol] ?? a.protocol;
    const client = await ctx.file(a.path_client);
    const params = await ctx.file(a.parameter_file);
    // A few seconds in the past, as Octogram does, so that the first blocks come at once.
    const timestamp = new Date(Date.now() - 5000).toISOString().replace(/\.\d+Z$/, "Z");
    await ctx.sh(
      command(client, "--endpoint", ctx.endpoint(a.endpoint), "-block", "genesis", "activate", "protocol", hash) +
        " " +
        command("with", "fitness", "1", "and", "key", "activator", "and", "parameters", params, "--timestamp", timestamp),
    );
  },
});

export const waitForBootstrapped = jobKind({
  summary: "wait until a node is bootstrapped (octez-client bootstrapped)",
  args: z.strictObject({ path_client: text, endpoint: text }),
  async run(ctx, a) {
    const client = await ctx.file(a.path_client);
    await ctx.sh(command(client, "--endpoint", ctx.endpoint(a.endpoint), "bootstrapped"));
  },
});

export const publishDalSlot = jobKind({
  summary: "store a slot on a DAL node, then publish its commitment on L1 at a level",
  args: z.strictObject({
    slot_info: z.strictObject({ slot_index: text, slot_size: text, payload: text }),
    target_published_level: text.optional(),
    l1_node_uri: text,
    dal_node_uri: text,
    base_dir: text,
    source: text,
    path_client: text,
  }),
  async run(ctx, a) {
    const index = int(a.slot_info.slot_index, "slot_index");
    const size = int(a.slot_info.slot_size, "slot_size");
    if (Buffer.byteLength(a.slot_info.payload) > size) throw new Error(`the payload is longer than slot_size (${size} bytes)`);
    const client = await ctx.file(a.path_client);
    const baseDir = await ctx.file(a.base_dir);
    const l1 = ctx.endpoint(a.l1_node_uri);
    const dal = ctx.endpoint(a.dal_node_uri);
    const target = a.target_published_level === undefined ? undefined : int(a.target_published_level, "target_published_level");
    // 1. The slot (the payload, padded with zeros to slot_size) to the DAL node, which gives its commitment and proof.
    // 2. Wait until L1 is at the level before the target (or at the next level without one).
    // 3. Publish the commitment on L1, unless that level is already past.
    const hex = Buffer.concat([Buffer.from(a.slot_info.payload), Buffer.alloc(size - Buffer.byteLength(a.slot_info.payload))]).toString(
      "hex",
    );
    const script = `${HTTP_FUNCTION}
level() { http GET ${shQuote(`${l1}/chains/main/blocks/head/header`)} | sed -n 's/.*"level": *\\([0-9][0-9]*\\).*/\\1/p'; }
slot=$(mktemp)
printf '{"invalid_utf8_string":"%s"}' ${shQuote(hex)} > "$slot"
stored=$(http POST ${shQuote(`${dal}/slots?slot_index=${index}`)} "$slot")
rm -f "$slot"
commitment=$(printf '%s' "$stored" | sed -n 's/.*"commitment": *"\\([^"]*\\)".*/\\1/p')
proof=$(printf '%s' "$stored" | sed -n 's/.*"commitment_proof": *"\\([^"]*\\)".*/\\1/p')
[ -n "$commitment" ] || { echo "the DAL node gave no commitment: $stored" >&2; exit 1; }
now=$(level)
${target === undefined ? `want=$((now + 1))` : `want=${target - 1}`}
while [ "$now" -lt "$want" ]; do sleep 0.2; now=$(level); done
if [ "$now" -eq "$want" ]; then
  ${command(client, "--endpoint", l1, "--base-dir", baseDir, "publish", "dal", "commitment")} "$commitment" ${command("from", a.source, "for", "slot", String(index), "with", "proof")} "$proof"
else
  echo "level $want is past (L1 is at $now): the commitment is not published" >&2
fi
echo "$commitment"`;
    const { stdout } = await ctx.sh(script);
    return { commitment: stdout.trim().split("\n").pop() ?? "" };
  },
});
