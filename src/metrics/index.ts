// Metrics: a Prometheus server troupe runs and queries.
//   server.ts         the options and the server both starts share
//   config.ts         prometheus.yml and the file_sd targets file (pure)
//   process.ts        finding the binary, the exit hook, log tails
//   query.ts          the HTTP API's answers, typed
//   client.ts         readiness, queries, waiting for targets
//   prometheus.ts     startPrometheus(): on the orchestrator
//   run-script.ts     the shell text that runs it, here or on a host, with its watchdog (pure)
//   remote.ts         startPrometheusOn(transport): on a host
export { startPrometheus, type PrometheusServer, type StartPrometheusOptions } from "./prometheus.js";
export { startPrometheusOn, type StartPrometheusOnOptions } from "./remote.js";
export type { ScrapeTarget } from "./config.js";
export { values as queryValues, type QueryResult, type Sample, type Labels, type ActiveTarget } from "./query.js";
