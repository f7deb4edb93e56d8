export { InProcessSshTransport, type InProcessSshOptions } from "./transport.js";
export { ConnectError, type ConnectAttempt, type ConnectFailure, type InProcessTarget } from "./connection.js";
