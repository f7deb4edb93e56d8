// Before any job runs on a host: the shell the project's scripts are written
// for must be there, or the host is broken with a message that names it and
// says what to do (instead of every script failing with "bash: not found").

import type { Host } from "../backends/backend.js";
import type { ScriptShell } from "../model/project.js";
import { FIND_BASH, NO_BASH_STATUS } from "../script/launcher.js";

/** Why `host` cannot run scripts written for `shell`, or undefined when it can (or cannot be asked: later steps say why). */
export async function missingShell(host: Host, shell: ScriptShell): Promise<string | undefined> {
  if (shell === "sh") return undefined;
  try {
    const r = await host.transport.exec({ script: FIND_BASH });
    if (r.exitCode !== NO_BASH_STATUS) return undefined;
  } catch {
    return undefined;
  }
  return `${host.name} has no bash, which the project's scripts are written for: install bash there, or set shell: sh in troupe.yaml`;
}
