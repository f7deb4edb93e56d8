// The library entry point: everything the CLI does, as an API.
export * from "./model/position.js";
export type * from "./model/project.js";
export type * from "./model/job.js";
export * from "./util/errors.js";
export * from "./report/events.js";
export type * from "./transport/transport.js";
export type * from "./backends/backend.js";
