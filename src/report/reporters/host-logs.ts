// A scenario's host logs: `logs/<host>.log` in the run's results directory,
// every line the host's steps and services printed, stamped and named:
// `2026-11-22 10:36:17 serve (stderr): ...`.

import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { Output } from "../events.js";
import { formatTimestamp } from "../format.js";
import type { HookState } from "../model/state.js";
import type { Reporter } from "../reporter.js";
import { filesError } from "./hook-logs.js";

export class HostLogs implements Reporter {
  private readonly logs = new Map<string, WriteStream>();
  private readonly errors: Error[] = [];
  private dirMade = false;

  constructor(private readonly runDir: string) {}

  onOutput(e: Output, hook: HookState | undefined): void {
    if (hook) return; // a hook of a job has its own log (hook-logs.ts)
    this.write(e.host, `${formatTimestamp(e.time)} ${e.job}${e.stream === "stderr" ? " (stderr)" : ""}: ${e.line}${e.partial ? "" : "\n"}`);
  }

  async finish(): Promise<void> {
    await Promise.all([...this.logs.values()].map((s) => new Promise<void>((r) => s.end(() => r()))));
    this.logs.clear();
    if (this.errors.length > 0) throw filesError("host log", this.errors);
  }

  private write(host: string, text: string): void {
    let s = this.logs.get(host);
    if (!s) {
      try {
        if (!this.dirMade) mkdirSync(join(this.runDir, "logs"), { recursive: true });
        this.dirMade = true;
      } catch (e) {
        this.errors.push(e as Error);
        return;
      }
      s = createWriteStream(join(this.runDir, "logs", `${host}.log`), { flags: "a" });
      s.on("error", (e) => this.errors.push(e));
      this.logs.set(host, s);
    }
    s.write(text);
  }
}
