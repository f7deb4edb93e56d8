// The backend's `key` with its `$(HOST:cmd)` run on this machine, as Spread
// evaluates it (`key: $(HOST: echo "$GOOGLE_KEY")`). `troupe run` has done
// so already while planning; `troupe play` and `troupe gc` have not.

import type { Backend } from "../../model/project.js";
import { HostCommandCache } from "../../plan/host-commands.js";
import { makeHostCommand } from "../../api/host-command.js";

export function evaluatedKey(backend: Backend, projectDir: string): string | undefined {
  const key = backend.key;
  if (key === undefined || !key.includes("$(HOST:")) return key;
  const cache = new HostCommandCache(makeHostCommand(projectDir));
  return cache.expand(key, `${backend.name} backend key`, backend.where["key"] ?? backend.pos).trim();
}
