// The `tezos` plugin: Octogram's tezos.* jobs that the DAL recipes use,
// calling the octez binaries the recipe points at (path_node, path_client,
// baker_path, or a prefetched ./octez-baker-PROTOCOL).

import type { JobPlugin } from "../plugin.js";
import { activateProtocol, generateKeys, publishDalSlot, waitForBootstrapped } from "./client.js";
import { startBaker, startDalNode, startNode } from "./nodes.js";
import { generateParameters } from "./parameters.js";

export const tezosPlugin: JobPlugin = {
  name: "tezos",
  summary: "octez nodes, DAL nodes, bakers, keys, protocol parameters and DAL slots",
  jobs: {
    "tezos.generate_keys": generateKeys,
    "tezos.generate_protocol_parameters_file": generateParameters,
    "tezos.start_node": startNode,
    "tezos.activate_protocol": activateProtocol,
    "tezos.wait_for_bootstrapped": waitForBootstrapped,
    "tezos.start_dal_node": startDalNode,
    "tezos.start_baker": startBaker,
    "tezos.publish_dal_slot": publishDalSlot,
  },
};
