// Listening on a TCP address a user gave (`--serve`, `troupe sync serve
// --listen`), with the one error message that says why it cannot be had.

import type { AddressInfo, Server } from "node:net";
import { TroupeError } from "./errors.js";

/** Listen on host:port (0: a free one); the port listened on. Throws E_USAGE naming `flag` and what to do. */
export async function listenOn(server: Server, host: string, port: number, flag: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const why =
        err.code === "EADDRINUSE" ? "the port is in use" : err.code === "EADDRNOTAVAIL" ? "not an address of this machine" : err.message;
      reject(
        new TroupeError(
          "E_USAGE",
          `${flag}: cannot listen on ${host}:${port}: ${why}; pick another (${flag} 127.0.0.1:0 takes a free port)`,
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
