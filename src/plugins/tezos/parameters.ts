// tezos.generate_protocol_parameters_file: a protocol parameters file made
// from a base one (`sandbox-parameters.json`, ...) with the wallet's
// accounts as bootstrap accounts, DAL parameters and the block delay, as
// Octogram makes it. The JSON is edited here; the host only reads and
// writes files and runs octez-client.

import * as z from "zod";
import { text } from "../../config/schema/common.js";
import { shQuote } from "../../exec/shell-quote.js";
import { jobKind } from "../plugin.js";
import { command, findBinary } from "./shell.js";

const dal = z.strictObject({
  feature_enable: text,
  number_of_shards: text,
  page_size: text,
  slot_size: text,
  redundancy_factor: text,
  attestation_lag: text,
  attestation_threshold: text,
  number_of_slots: text,
  blocks_per_epoch: text.optional(),
});

/** Octez's default bootstrap balance (4,000,000 tez in mutez), when the recipe gives none. */
const DEFAULT_BALANCE = "4000000000000";

/** `'1_000'` -> 1000, `'true'` -> true: Octogram reads DAL values as JSON after the templates. */
function jsonValue(key: string, v: string): unknown {
  try {
    return JSON.parse(v.replace(/(\d)_(?=\d)/g, "$1"));
  } catch {
    throw new Error(`dal.${key}: ${JSON.stringify(v)} is not a number or a boolean`);
  }
}

export const generateParameters = jobKind({
  summary: "write a protocol parameters file: a base file, the wallet's accounts, DAL parameters",
  args: z.strictObject({
    base_file: text,
    output_file_name: text.optional(),
    wallet: text.optional(),
    pk_revealed_accounts_prefix: text.optional(),
    pk_unrevealed_accounts_prefix: text.optional(),
    default_balance: text.optional(),
    balance_updates: z.array(z.tuple([text, text])).optional(),
    dal,
    minimal_block_delay: text.optional(),
    path_client: text.optional(),
  }),
  async run(ctx, a) {
    const base = await ctx.file(a.base_file);
    const client = a.path_client ? await ctx.file(a.path_client) : await findBinary(ctx, ["octez-client"], "path_client");
    const wallet = a.wallet ? await ctx.file(a.wallet) : undefined;
    const cli = (...words: string[]): string => command(client, ...(wallet ? ["--base-dir", wallet] : []), ...words);
    let parameters: Record<string, unknown>;
    const baseText = (await ctx.sh(`cat ${shQuote(base)}`)).stdout;
    try {
      parameters = JSON.parse(baseText) as Record<string, unknown>;
    } catch {
      throw new Error(`${a.base_file} is not JSON`);
    }
    const known = (await ctx.sh(cli("list", "known", "addresses"))).stdout
      .split("\n")
      .map((l) => /^([^:\s]+):\s*(tz\w+)/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => m[1]!);
    const prefixed = (prefix: string | undefined, all: boolean): string[] =>
      prefix === undefined ? (all ? known : []) : known.filter((alias) => alias.startsWith(prefix));
    const balance = (alias: string): string =>
      (a.balance_updates ?? []).find(([who]) => who === alias)?.[1] ?? a.default_balance ?? DEFAULT_BALANCE;
    const show = async (alias: string): Promise<{ hash: string; key: string }> => {
      const out = (await ctx.sh(cli("show", "address", alias))).stdout;
      const hash = /Hash:\s*(\S+)/.exec(out)?.[1];
      const key = /Public Key:\s*(\S+)/.exec(out)?.[1];
      if (!hash || !key) throw new Error(`cannot read the keys of ${alias} from: ${out.trim()}`);
      return { hash, key };
    };
    const accounts: [string, string][] = [];
    // Revealed accounts are given by public key, the others by public key hash.
    for (const alias of prefixed(a.pk_revealed_accounts_prefix, true)) accounts.push([(await show(alias)).key, balance(alias)]);
    for (const alias of prefixed(a.pk_unrevealed_accounts_prefix, false)) accounts.push([(await show(alias)).hash, balance(alias)]);
    parameters["bootstrap_accounts"] = accounts;
    const dalParams: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a.dal)) if (v !== undefined) dalParams[k] = jsonValue(k, v);
    parameters["dal_parametric"] = dalParams;
    if (a.minimal_block_delay !== undefined) parameters["minimal_block_delay"] = a.minimal_block_delay;
    const filename = a.output_file_name ?? "parameters.json";
    const json = JSON.stringify(parameters, null, 2);
    await ctx.sh(`cat > ${shQuote(filename)} <<'TROUPE_PARAMETERS_EOF'\n${json}\nTROUPE_PARAMETERS_EOF`);
    return { filename };
  },
});
