// Metrics: a Prometheus server troupe runs and queries.
//   config.ts      prometheus.yml and the file_sd targets file (pure)
//   process.ts     finding the binary, the exit hook, log tails
//   query.ts       the HTTP API's answers, typed
//   prometheus.ts  startPrometheus()
export { startPrometheus, type PrometheusServer, type StartPrometheusOptions } from "./prometheus.js";
export type { ScrapeTarget } from "./config.js";
export { values as queryValues, type QueryResult, type Sample, type Labels, type ActiveTarget } from "./query.js";
