// The Prometheus config troupe writes: metrics URLs become file_sd target
// groups (address, scheme, path, params, labels); bad URLs are user errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { prometheusYaml, targetsJson } from "../../../src/metrics/config.js";
import { isTroupeError } from "../../../src/util/errors.js";

test("targetsJson: one group per target, the URL split into Prometheus' labels, job and labels kept", () => {
  const groups = JSON.parse(
    targetsJson([
      { job: "web", url: "http://10.213.0.5:9100/metrics", labels: { host: "node-1" } },
      { job: "db", url: "https://db.example/stats/prom?format=text" },
      { job: "plain", url: "http://127.0.0.1/" },
    ]),
  ) as { targets: string[]; labels: Record<string, string> }[];
  assert.deepEqual(groups, [
    { targets: ["10.213.0.5:9100"], labels: { host: "node-1", job: "web", __scheme__: "http", __metrics_path__: "/metrics" } },
    { targets: ["db.example:443"], labels: { job: "db", __scheme__: "https", __metrics_path__: "/stats/prom", __param_format: "text" } },
    { targets: ["127.0.0.1:80"], labels: { job: "plain", __scheme__: "http", __metrics_path__: "/" } },
  ]);
});

test("targetsJson: a URL Prometheus cannot scrape is an error naming the target", () => {
  for (const url of ["not a url", "ftp://h/metrics"]) {
    assert.throws(
      () => targetsJson([{ job: "svc", url }]),
      (e: unknown) => isTroupeError(e) && e.code === "E_SCENARIO" && e.message.includes("metrics target svc"),
    );
  }
});

test("prometheusYaml: the scrape interval everywhere, targets from the file", () => {
  const y = prometheusYaml("/r/prometheus/targets.json", "2s");
  assert.match(y, /scrape_interval: "2s"/);
  assert.match(y, /file_sd_configs:\n\s+- files: \["\/r\/prometheus\/targets.json"\]/);
});
