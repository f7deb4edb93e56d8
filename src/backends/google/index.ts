// The google backend: Compute Engine instances through the REST API (see driver.ts).

export { createGoogleDriver, type GoogleDriverOptions } from "./driver.js";
