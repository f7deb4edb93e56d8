// `$(HOST:cmd)` in the google backend's `key` and `location`, run on this
// machine. Spread evaluates `key` (`key: $(HOST: echo "$GOOGLE_KEY")`);
// `troupe run` has done so already while planning, `troupe play` and
// `troupe gc` have not. troupe also evaluates `location`, so that a project
// can take the Google project from the environment
// (`location: $(HOST: echo "$GOOGLE_PROJECT/us-east1-b")`).

import type { Backend } from "../../model/project.js";
import { HostCommandCache } from "../../plan/host-commands.js";
import { makeHostCommand } from "../../api/host-command.js";

export function hostEvaluated(backend: Backend, field: "key" | "location", projectDir: string): string | undefined {
  const raw = field === "key" ? backend.key : backend.extra["location"];
  if (typeof raw !== "string" || !raw.includes("$(HOST:")) return typeof raw === "string" ? raw : undefined;
  const cache = new HostCommandCache(makeHostCommand(projectDir));
  return cache.expand(raw, `${backend.name} backend ${field}`, backend.where[field] ?? backend.pos).trim();
}

export function evaluatedKey(backend: Backend, projectDir: string): string | undefined {
  return hostEvaluated(backend, "key", projectDir);
}
