// plan/: the test matrix, pure. Spread's semantics (canonical/spread,
// spread/project.go and spread/runner.go) with no I/O: anything that needs the
// outside world ($(HOST:cmd)) is injected.

export { planJobs, jobName, selectManual, resolveRemotePath, type PlanOptions } from "./plan-jobs.js";
export { parseFilters, parseFilterExpression, type Filter, type FilterExpression } from "./filter.js";
export { orderForRun } from "./order.js";
export { jobToJSON, type JobJSON } from "./json.js";
export { joinScripts, jobScripts } from "./scripts.js";
export { resolveTimeouts, DEFAULT_WARN_TIMEOUT, DEFAULT_KILL_TIMEOUT, NO_TIMEOUT } from "./timeouts.js";
export { compareJobs, sortJobs } from "./sort.js";
export { OrderedEnv, splitVariants, envVariants } from "./environment.js";
export { HostCommandCache, type HostCommand } from "./host-commands.js";
export { globMatch } from "./glob.js";
export { mulberry32, permutation } from "./prng.js";
export { resolveSettings, type ResolvedSettings } from "./settings.js";
export { jobPorts, parsePortSpec, portEnvName, hostNames, type PortSources } from "./ports.js";
