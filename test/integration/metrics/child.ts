// A separate troupe process for the Prometheus tests: it starts a server,
// prints its pid and ends without stopping it. It does nothing unless
// TROUPE_PROM_TEST_MODE is set (the test runner may load it as a test file).
//   host:  on the lab host in slot TROUPE_PROM_TEST_SLOT, then process.exit()
//   exit:  on this machine, then process.exit() (the exit hook's case)
//   kill:  on this machine, then SIGKILL to itself (no hook runs)

import { labTransport, LAB_STATE_DIR } from "../../../src/backends/lab/index.js";
import { readRecord } from "../../../src/backends/lab/records.js";
import { startPrometheus, startPrometheusOn, type PrometheusServer } from "../../../src/metrics/index.js";

const mode = process.env["TROUPE_PROM_TEST_MODE"];
const dir = process.env["TROUPE_PROM_TEST_DIR"] ?? "/tmp/troupe-prom-child";

async function main(): Promise<void> {
  let server: PrometheusServer;
  if (mode === "host") {
    const slot = Number(process.env["TROUPE_PROM_TEST_SLOT"]);
    const rec = await readRecord(LAB_STATE_DIR, slot);
    if (!rec) throw new Error(`no lab host in slot ${slot}`);
    server = await startPrometheusOn(labTransport(LAB_STATE_DIR, rec), {
      address: rec.address,
      dir,
      remoteDir: process.env["TROUPE_PROM_TEST_REMOTE_DIR"] ?? "/var/tmp/troupe-prom-child",
      listen: "0.0.0.0:9190",
      targets: [],
    });
  } else {
    server = await startPrometheus({ dir, targets: [] });
  }
  process.stdout.write(`${server.pid}\n`, () => {
    // No stop(), no close(): troupe's process just ends.
    if (mode === "kill") process.kill(process.pid, "SIGKILL");
    else process.exit(0);
  });
}

if (mode) {
  main().catch((e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  });
}
