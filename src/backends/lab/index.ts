// The lab backend: throwaway hosts on this Linux machine (see driver.ts).

export { createLabDriver, labSshClient, labTransport, openSshLabTransport, type LabDriverOptions, type LabTransport } from "./driver.js";
export {
  labUp,
  labDown,
  labGc,
  labStatus,
  type LabOptions,
  type LabUpOptions,
  type LabUpResult,
  type LabDownOptions,
  type LabGcOptions,
  type LabRemoval,
  type LabStatus,
  type LabHostInfo,
} from "./manage.js";
export { checkLabSupport } from "./host.js";
export { DEFAULT_STATE_DIR as LAB_STATE_DIR, BRIDGE as LAB_BRIDGE, GATEWAY as LAB_GATEWAY } from "./layout.js";
export { LAB_SUBNET } from "./scripts.js";
