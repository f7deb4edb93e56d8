// A separate troupe process for prometheus-on-host.test.ts: it starts
// Prometheus on the lab host in slot TROUPE_PROM_TEST_SLOT, prints the
// server's pid and leaves without stopping it. It does nothing unless
// TROUPE_PROM_TEST_SLOT is set (the test runner may load it as a test file).

import { labTransport, LAB_STATE_DIR } from "../../../src/backends/lab/index.js";
import { readRecord } from "../../../src/backends/lab/records.js";
import { startPrometheusOn } from "../../../src/metrics/index.js";

const slot = process.env["TROUPE_PROM_TEST_SLOT"];

async function main(): Promise<void> {
  const rec = await readRecord(LAB_STATE_DIR, Number(slot));
  if (!rec) throw new Error(`no lab host in slot ${slot}`);
  const transport = labTransport(LAB_STATE_DIR, rec);
  const server = await startPrometheusOn(transport, {
    address: rec.address,
    dir: process.env["TROUPE_PROM_TEST_DIR"] ?? "/tmp",
    remoteDir: process.env["TROUPE_PROM_TEST_REMOTE_DIR"] ?? "/var/tmp/troupe-prom-child",
    listen: "0.0.0.0:9190",
    targets: [],
  });
  process.stdout.write(`${server.pid}\n`);
  // No stop(), no close(): troupe's process just ends.
  process.exit(0);
}

if (slot) {
  main().catch((e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  });
}
