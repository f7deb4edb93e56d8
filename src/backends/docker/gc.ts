// `troupe gc` for docker: containers labelled as troupe's whose owner is
// gone (gc/owner.ts decides), removed by force. Containers kept for later
// runs (-reuse) carry no process label and are left to `--discard`.

import type { Collector, Leftover } from "../../gc/collector.js";
import { collectableBecause, LABEL_RUN, LABEL_TROUPE, parseOwnerLabels } from "../../gc/owner.js";
import { TroupeError } from "../../util/errors.js";
import { listContainers, removeContainer, shownName } from "./containers.js";
import { DockerApi } from "./engine-api.js";

export const dockerCollector: Collector = {
  type: "docker",
  async find(options) {
    const api = new DockerApi();
    let found;
    try {
      found = await listContainers(api, [`${LABEL_TROUPE}=1`], options.signal);
    } catch (err) {
      if (err instanceof TroupeError) return { unavailable: err.message };
      throw err;
    }
    const out: Leftover[] = [];
    for (const c of found) {
      const owner = parseOwnerLabels(c.Labels ?? {});
      if (!owner) continue;
      const why = collectableBecause(owner) ?? (options.all && owner.process ? "--all: its troupe process is still running" : undefined);
      if (!why) continue;
      const run = c.Labels?.[LABEL_RUN];
      out.push({ type: "docker", kind: "container", id: c.Id, name: shownName(c), ...(run ? { run } : {}), reason: why });
    }
    return out;
  },
  async remove(leftover) {
    await removeContainer(new DockerApi(), leftover.id);
  },
};
