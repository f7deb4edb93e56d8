// The lxd backend: Spread's lxd backend (see driver.ts), and what `troupe
// image build` needs to import images under the names it looks up.

export { createLxdDriver, type LxdDriverOptions } from "./driver.js";
export { lxdImageAliases, spreadImageProperties, spreadRemoteImage, chooseImage, type LxdImage, type ImageChoice } from "./images.js";
export { clientSetup, LxdClient, TROUPE_LXD_DIR, type ClientSetup } from "./client.js";
