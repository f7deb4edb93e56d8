// `troupe runs show --open`: the report in a browser, the user's ($BROWSER,
// as Python's webbrowser and git read it) or the desktop's (xdg-open); with
// neither, the path is printed and the user told so.

import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

function onPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Open `file`; what was done, in a line for the user. */
export async function openInBrowser(file: string): Promise<string> {
  const browser = process.env["BROWSER"]?.split(":")[0]?.trim();
  const command = browser || onPath("xdg-open");
  if (!command) return `no browser to open it with (set $BROWSER, or install xdg-open): ${file}`;
  const ok = await new Promise<boolean>((resolve) => {
    // Detached: the browser outlives troupe.
    const child = spawn(command, [file], { stdio: "ignore", detached: true });
    child.once("error", () => resolve(false));
    child.once("spawn", () => {
      child.unref();
      resolve(true);
    });
  });
  return ok ? `opened ${file} with ${command}` : `could not start ${command}: ${file}`;
}
