export { createLocalDriver, type LocalDriverOptions } from "./driver.js";
