// The qemu backend: VMs booted from Spread's ~/.spread/qemu images (see driver.ts).

export { createQemuDriver, type QemuDriverOptions } from "./driver.js";
export { chooseAccel, type Accel, type HostFacts } from "./accel.js";
export { qemuSystemConfig, type QemuSystemConfig } from "./config.js";
