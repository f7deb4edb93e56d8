// `--results-dir DIR`, the same for run, spread and play (and `troupe runs`, which reads it).

import { Option } from "commander";

export function resultsDirOption(): Option {
  return new Option(
    "--results-dir <dir>",
    "keep the results in DIR/<run-id>/, the newest at DIR/latest (default: .troupe/runs/ of the project)",
  );
}
