// `troupe exec docker:SPEC`: running containers, by name or id
// (`docker:web-1,web-2`) or by label (`docker:label=app=web`), each reached
// through the engine's exec. They are adopted: troupe closes its streams
// and never stops nor removes them.

import { TroupeError } from "../../util/errors.js";
import { naturalCompare } from "../../util/natural-order.js";
import { inspectContainer, listContainers, shownName } from "./containers.js";
import { DockerApi } from "./engine-api.js";
import { DockerExecTransport } from "./exec-transport.js";

export interface DockerTarget {
  readonly name: string;
  readonly transport: DockerExecTransport;
}

export async function dockerTargets(spec: string, api: DockerApi = new DockerApi()): Promise<DockerTarget[]> {
  const found: { id: string; name: string }[] = [];
  if (spec.startsWith("label=")) {
    const label = spec.slice("label=".length);
    for (const c of await listContainers(api, [label])) if (c.State === "running") found.push({ id: c.Id, name: shownName(c) });
    if (found.length === 0) throw new TroupeError("E_USAGE", `no running container has the label ${label} (at ${api.display})`);
  } else {
    for (const want of spec.split(",").filter((s) => s !== "")) {
      const c = await inspectContainer(api, want);
      if (!c) throw new TroupeError("E_USAGE", `no container named ${want} at ${api.display} (docker ps lists them)`);
      if (!c.State.Running) throw new TroupeError("E_USAGE", `container ${want} is ${c.State.Status}, not running: start it first`);
      found.push({ id: c.Id, name: shownName(c) });
    }
  }
  return found
    .sort((a, b) => naturalCompare(a.name, b.name))
    .map((c) => ({ name: c.name, transport: new DockerExecTransport(api, c.id, c.name) }));
}
