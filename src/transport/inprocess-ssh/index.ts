export { InProcessSshTransport, type InProcessSshOptions } from "./transport.js";
export type { InProcessTarget } from "./connection.js";
