// config/: project files on disk -> the Project model, with positioned problems.

export { findProjectFile, flavourOf, PROJECT_FILE_NAMES } from "./find.js";
export { loadProject, DEFAULT_REMOTE_ROOT, type LoadOptions } from "./load.js";
export { projectJsonSchema, taskJsonSchema } from "./json-schema.js";
export { parseDuration, DURATION_HELP } from "./duration.js";
export { DEFAULT_BACKEND, DEFAULT_SYSTEM } from "./build-backends.js";
export { parseYaml, locate, formatPath, type LNode, type ParsedYaml, type YamlPath } from "./yaml-positions.js";
export { closestWord } from "./suggest.js";
