// The naming rules, as in Spread's project.go, plus troupe's relaxations.

/** Project, backend and task-directory names. */
export const VALID_NAME = /^[a-z0-9]+(?:[-._][a-z0-9]+)*$/;
/** System names and patterns in `systems:` lists (Spread): `ubuntu-16.04`, `ubuntu-*`. */
export const VALID_SYSTEM = /^[a-z*]+-[a-z0-9*]+(?:[-.][a-z0-9*]+)*$/;
/** troupe.yaml also accepts single-word system names such as `localhost`. */
export const VALID_SYSTEM_TROUPE = /^[a-z0-9*]+(?:[-._][a-z0-9*]+)*$/;
/** Suite names: `tests/`, `tests/main/`. */
export const VALID_SUITE = /^(?:[a-z0-9]+(?:[-._][a-z0-9]+)*\/)+$/;
/** Task names: `tests/main/hello`. */
export const VALID_TASK = /^(?:[a-z0-9]+(?:[-._][a-z0-9]+)*\/)+[a-z0-9]+(?:[-._][a-z0-9]+)*$/;
/** Environment keys, with an optional variant suffix: `SUBJECT/foo,bar`. */
export const VALID_VARNAME = /^[a-zA-Z_][a-zA-Z0-9_]*(?:\/[a-zA-Z0-9_]+(?:,[a-zA-Z0-9_]+)*)?$/;
/** Roles of a multi-host task (troupe): `server`, `client`, `db-primary`. */
export const VALID_ROLE = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;
/** Names of reserved ports (troupe's `ports:`): `http`, `admin`, `db-primary`. */
export const VALID_PORT = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;
/** Per-role script keys in task.yaml: `execute/server`. */
export const ROLE_SCRIPT_KEY = /^(prepare|execute|restore|debug)\/(.*)$/;

export const NAME_HELP = "use lowercase letters and digits, separated by single '-', '.' or '_' (e.g. my-project)";
