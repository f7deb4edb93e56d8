// A project whose run has every kind of failure on the local backend: a task
// prepare that fails, a restore that breaks its host, a job then aborted for
// want of hosts, and (run on its own with the filter checks/pair) a
// multi-host job failing on one host. For the results' tests (JUnit, HTML).

import { project } from "./helpers.js";

export function failingProject(): string {
  return project({
    "troupe.yaml":
      "project: junit-truth\nbackends:\n  local:\n    systems:\n      - box:\n          workers: 2\n" +
      "suites:\n  checks/:\n    summary: checks\n",
    // Run on its own (a filter): fails on one of its two hosts.
    "checks/pair/task.yaml":
      "summary: pair\nmanual: true\nhosts:\n  node: {count: 2}\nexecute: |\n" +
      '  if [ "$TROUPE_HOST" = node-2 ]; then echo "node-2 went wrong"; exit 7; fi\n  echo fine\n',
    "checks/prep/task.yaml": "summary: p\nprepare: echo preparing; exit 3\nexecute: echo never\n",
    // Passes, but its restore breaks its host...
    "checks/rest/task.yaml": "summary: r\nexecute: echo ran\nrestore: echo restoring badly; exit 4\n",
    "checks/ok/task.yaml": "summary: ok\nexecute: echo fine\n",
    // ... so that this one, which needs both, cannot run.
    "checks/late/task.yaml": "summary: late\npriority: -10\nhosts:\n  node: {count: 2}\nexecute: echo never\n",
  });
}
