// A pseudo-terminal for tests: troupe runs inside a tmux session of its own
// (a private server socket), keys are sent as a user types them, and the
// screen and the scrollback are read back. Debian's tmux
// (`apt-get install tmux`).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TROUPE } from "../cli/helpers.js";

let sessions = 0;

export interface TmuxOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly columns?: number;
  readonly rows?: number;
}

export class Tmux {
  private constructor(
    private readonly socket: string,
    private readonly env: NodeJS.ProcessEnv,
    /** Where troupe's exit status is written once it exits. */
    private readonly statusFile: string,
  ) {}

  /** `troupe ARGS` in a new terminal; the pane stays after troupe exits, with its exit status. */
  static troupe(args: readonly string[], o: TmuxOptions): Tmux {
    const dir = mkdtempSync(join(tmpdir(), "troupe-tmux-"));
    const conf = join(dir, "tmux.conf");
    writeFileSync(conf, "set -g remain-on-exit on\nset -g history-limit 50000\nset -g status off\n");
    const socket = join(dir, "socket");
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...o.env };
    delete env["TMUX"];
    const statusFile = join(dir, "status");
    const t = new Tmux(socket, env, statusFile);
    // tmux's #{pane_dead_status} is often empty once the pane is dead (tmux
    // 3.3a), so a bash around troupe writes its status. bash waits out a
    // child that handles Ctrl-C itself and goes on, as a terminal user's shell does.
    const wrapper = `"$@"; echo $? > ${statusFile}.tmp && mv ${statusFile}.tmp ${statusFile}`;
    const command = ["bash", "-c", wrapper, "troupe-under-tmux", process.execPath, TROUPE, ...args]
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(" ");
    t.tmux(
      "-f",
      conf,
      "new-session",
      "-d",
      "-s",
      `t${++sessions}`,
      "-x",
      String(o.columns ?? 120),
      "-y",
      String(o.rows ?? 40),
      "-c",
      o.cwd,
      command,
    );
    return t;
  }

  private tmux(...args: string[]): string {
    const r = spawnSync("tmux", ["-S", this.socket, ...args], { env: this.env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }

  /** Keys as tmux names them: text, `Enter`, `C-c`, `C-z`. */
  keys(...keys: string[]): void {
    for (const k of keys) this.tmux("send-keys", ...(/^(Enter|C-.)$/.test(k) ? [k] : ["-l", k]));
  }

  /** What the terminal shows now. */
  screen(): string {
    return this.tmux("capture-pane", "-p", "-J");
  }

  /** Everything written to the terminal that is still there: scrollback and screen, wrapped lines joined. */
  history(): string {
    return this.tmux("capture-pane", "-p", "-J", "-S", "-");
  }

  /** The pane's title (what an OSC 0/2 sequence would set). */
  title(): string {
    return this.tmux("display-message", "-p", "#{pane_title}").trim();
  }

  /** troupe's exit status once it has exited, else undefined. */
  exitStatus(): number | undefined {
    return existsSync(this.statusFile) ? Number(readFileSync(this.statusFile, "utf8").trim()) : undefined;
  }

  /** Wait until `fn` holds of the screen (or of whatever it reads), polling as the terminal changes. */
  async until(what: string, fn: () => boolean, ms = 60_000): Promise<void> {
    const end = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the terminal shows:\n${this.history()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Wait for troupe to exit; its exit status. */
  async exited(): Promise<number> {
    await this.until("troupe to exit", () => this.exitStatus() !== undefined);
    return this.exitStatus()!;
  }

  kill(): void {
    spawnSync("tmux", ["-S", this.socket, "kill-server"], { env: this.env });
  }
}
