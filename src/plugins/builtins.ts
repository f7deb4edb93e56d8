// Octogram's builtins.* jobs:
//
//   builtins.tar: {contents, archive, action: create|extract}
//       create: tar czf ARCHIVE CONTENTS on this host (ARCHIVE is self://... or a path)
//       extract: ARCHIVE (self://, HOST:// or a URL) unpacked into the directory CONTENTS
//   builtins.prefetch: URI
//       the file (HOST://path or a URL) copied into the scenario directory, executable
//   builtins.start_http_server: {directory, http_port}
//       the directory other hosts' HOST://path read from
//
// Files move through troupe's transports, so start_http_server opens no
// port: it names the directory that `HOST://path` reads on this host, which
// is what Octogram's agents use their HTTP server for.

import * as z from "zod";
import { shQuote } from "../exec/shell-quote.js";
import { text } from "../config/schema/common.js";
import { jobKind, type JobPlugin } from "./plugin.js";

const tar = jobKind({
  summary: "create a .tar.gz of a directory, or extract one (from this host, another, or a URL)",
  args: z.strictObject({
    contents: text.describe("the directory archived, or extracted into"),
    archive: text.describe("the archive: self://path, HOST://path, a URL or a path"),
    action: z.enum(["create", "extract"]),
  }),
  async run(ctx, a) {
    if (a.action === "create") {
      if (/^[A-Za-z0-9._-]+:\/\//.test(a.archive) && !a.archive.startsWith("self://"))
        throw new Error(`builtins.tar: cannot create an archive on another host (${a.archive}); write self://PATH`);
      const archive = ctx.localPath(a.archive);
      await ctx.sh(`mkdir -p "$(dirname ${shQuote(archive)})"\ntar czvf ${shQuote(archive)} ${shQuote(a.contents)}`);
      return;
    }
    const archive = await ctx.file(a.archive);
    await ctx.sh(`mkdir -p ${shQuote(a.contents)}\ntar xzvf ${shQuote(archive)} -C ${shQuote(a.contents)}`);
  },
});

const prefetch = jobKind({
  summary: "copy a file (HOST://path or a URL) into the scenario directory, executable",
  args: text.describe("the file: HOST://path or a URL"),
  async run(ctx, uri) {
    const path = await ctx.file(uri, { keepName: true });
    const home = shQuote(ctx.host.dir);
    await ctx.sh(`chmod +x ${shQuote(path)}\n[ "$(dirname ${shQuote(path)})" = ${home} ] || mv ${shQuote(path)} ${home}/`);
  },
});

const startHttpServer = jobKind({
  summary: "serve a directory of this host to the other hosts' HOST://path",
  args: z.strictObject({
    directory: text.optional().describe("the directory served (default: the scenario directory)"),
    http_port: text.optional().describe("Octogram's port; troupe opens none (files move through its transports)"),
  }),
  async run(ctx, a) {
    const dir = ctx.localPath(a.directory ?? ".");
    ctx.serve(dir);
    ctx.info(`serving ${dir} to the other hosts' ${ctx.host.name}://path (through troupe's transports: no port is opened)`);
    return { port: a.http_port === undefined ? 0 : Number(a.http_port) };
  },
});

export const builtinsPlugin: JobPlugin = {
  name: "builtins",
  summary: "Octogram's builtins: tar, prefetch, start_http_server",
  jobs: { "builtins.tar": tar, "builtins.prefetch": prefetch, "builtins.start_http_server": startHttpServer },
};
