// File and folder names that every CI uploader and file system takes.
//
// actions/upload-artifact refuses paths with `"`, `:`, `<`, `>`, `|`, `*`,
// `?`, CR or LF in them, and Windows file systems refuse the same set; job
// names are `backend:system:suite/task:variant`. Such a character is written
// `%XX` (its UTF-8 bytes in hex), and so is `%` itself, so the mapping stays
// one-to-one (two names never share a path) and the rest stays readable:
// `web:ubuntu-24.04:checks/greet:v1` -> `web/ubuntu-24.04/checks/greet,v1`
// (see artifactPath).

/** Characters a path segment must not hold as they are. */
const REFUSED = /[%"'`:<>|*?\\,\x00-\x1f\x7f]/g;

function encode(ch: string): string {
  return [...Buffer.from(ch, "utf8")].map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join("");
}

/** One path segment (no `/` in it): refused characters as `%XX`; `.` and `..` as `%2E`, `%2E%2E`. */
export function portableSegment(name: string): string {
  const s = name.replace(REFUSED, encode).replace(/\//g, "%2F");
  if (s === "" || s === "." || s === "..") return s.replace(/\./g, "%2E") || "%";
  return s;
}

/**
 * Where a job's artifacts go under the `--artifacts` folder: one folder per
 * name component, the task's own folders kept, the variant after a comma and
 * the sample as it is named (`#2`).
 *
 *   local:debian-12:tests/main/hello       -> local/debian-12/tests/main/hello
 *   local:debian-12:tests/main/hello:v1#2  -> local/debian-12/tests/main/hello,v1#2
 */
export function artifactPath(jobName: string): string {
  const sample = /#\d+$/.exec(jobName)?.[0] ?? "";
  const rest = sample ? jobName.slice(0, -sample.length) : jobName;
  const [backend = "", system = "", task = "", ...variant] = rest.split(":");
  const taskParts = task
    .split("/")
    .filter((p) => p !== "")
    .map(portableSegment);
  const last = (taskParts.pop() ?? "%") + (variant.length ? "," + portableSegment(variant.join(":")) : "") + sample;
  return [portableSegment(backend), portableSegment(system), ...taskParts, last].join("/");
}
