// Prometheus configuration as troupe writes it (pure): one prometheus.yml
// whose only scrape job reads its targets from a file (file_sd_configs), and
// that targets file. Prometheus re-reads the file when it changes, so targets
// come and go without a restart.

import { TroupeError } from "../util/errors.js";

export interface ScrapeTarget {
  /** The `job` label of the target's series. */
  readonly job: string;
  /** The full metrics URL, e.g. `http://10.213.0.2:9100/metrics`. */
  readonly url: string;
  /** More labels for the target's series. */
  readonly labels?: Readonly<Record<string, string>>;
}

export const TARGETS_FILE = "targets.json";

/**
 * prometheus.yml: everything scraped every `scrapeInterval`, targets from
 * `targetsFile` (a relative path is read from the config's own directory, so
 * the directory may move, or be written on another host).
 */
export function prometheusYaml(targetsFile: string, scrapeInterval: string): string {
  return [
    "# Written by troupe; targets are in the file below, which troupe rewrites.",
    "global:",
    `  scrape_interval: ${JSON.stringify(scrapeInterval)}`,
    `  evaluation_interval: ${JSON.stringify(scrapeInterval)}`,
    "scrape_configs:",
    "  - job_name: troupe",
    "    file_sd_configs:",
    `      - files: [${JSON.stringify(targetsFile)}]`,
    "        refresh_interval: 1s",
    "",
  ].join("\n");
}

interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** The file_sd targets file: one group per target, its URL split into Prometheus' address/scheme/path labels. */
export function targetsJson(targets: readonly ScrapeTarget[]): string {
  const groups: TargetGroup[] = targets.map((t) => {
    let u: URL;
    try {
      u = new URL(t.url);
    } catch {
      throw new TroupeError("E_SCENARIO", `metrics target ${t.job}: ${t.url} is not a URL (write http://host:port/path)`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:")
      throw new TroupeError("E_SCENARIO", `metrics target ${t.job}: ${t.url}: Prometheus scrapes http:// or https:// only`);
    const port = u.port || (u.protocol === "https:" ? "443" : "80");
    const labels: Record<string, string> = {
      ...(t.labels ?? {}),
      job: t.job,
      __scheme__: u.protocol.slice(0, -1),
      __metrics_path__: u.pathname || "/",
    };
    for (const [k, v] of u.searchParams) labels[`__param_${k}`] = v;
    return { targets: [`${u.hostname}:${port}`], labels };
  });
  return `${JSON.stringify(groups, null, 2)}\n`;
}
