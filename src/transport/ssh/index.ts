// The OpenSSH transport, used by the lab and ssh backends.

export { SshTransport, type SshTransportOptions } from "./ssh-transport.js";
export { Semaphore, handshakeLimiter, setHandshakeConcurrency, DEFAULT_HANDSHAKES } from "./limiter.js";
export type { SshTarget } from "./args.js";
export { getScript, putScript, safePath } from "./remote.js";
