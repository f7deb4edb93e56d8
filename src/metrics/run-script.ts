// The shell text that runs Prometheus (pure): on a host through its
// Transport (remote.ts), and on the orchestrator (prometheus.ts). A host
// needs a POSIX sh, tar (for the data at the end) and Prometheus.
//
// The server is tied to the script that started it: troupe keeps that
// script's standard input open for as long as it wants the server, and a
// watchdog sends Prometheus SIGTERM when the input ends. The input ends when
// stop() closes it, and also when troupe's process dies (however it dies) or
// its connection to the host goes: so a server troupe forgot, or could not
// stop, still writes its data out and exits by itself.

import { shQuote } from "../exec/shell-quote.js";
import { TroupeError } from "../util/errors.js";

/** The line the run script prints first, with the server's pid. */
export const PID_LINE = "troupe-prometheus-pid ";

/** The server's pid from the run script's output so far. */
export function parsePid(output: string): number | undefined {
  const m = new RegExp(`^${PID_LINE}(\\d+)$`, "m").exec(output);
  return m ? Number(m[1]) : undefined;
}

/** Prints the binary's path, or exits 127 when the host has none. */
export function findBinaryScript(binary: string): string {
  const b = shQuote(binary);
  return binary.includes("/") ? `[ -x ${b} ] && [ ! -d ${b} ] && printf '%s\\n' ${b} || exit 127` : `command -v ${b} || exit 127`;
}

/** Write standard input to DIR/NAME atomically (a file renamed over the old), creating DIR and DIR/data. */
export function writeFileScript(dir: string, name: string): string {
  const d = shQuote(dir);
  return [`mkdir -p ${d}/data`, `cat > ${d}/.${name}.tmp`, `mv -f ${d}/.${name}.tmp ${d}/${name}`].join(" && ");
}

/** The config file's path on the host (Prometheus reports it; troupe checks it is talking to its own server). */
export function configFile(dir: string): string {
  return `${dir}/prometheus.yml`;
}

/** Run Prometheus in DIR (config prometheus.yml, data data/, log prometheus.log) until standard input ends. */
export function runScript(dir: string, binary: string, listen: string): string {
  return [
    `cd ${shQuote(dir)} || exit 1`,
    // Background commands get /dev/null as input; the watchdog needs ours.
    "exec 3<&0",
    `${shQuote(binary)} --config.file=${shQuote(configFile(dir))} --storage.tsdb.path=${shQuote(`${dir}/data`)} --web.listen-address=${shQuote(listen)} </dev/null >>prometheus.log 2>&1 &`,
    "pid=$!",
    `printf '%s\\n' "$pid" > prometheus.pid`,
    `printf '${PID_LINE}%s\\n' "$pid"`,
    // The watchdog: a subshell (read is a builtin, so nothing else to kill) waiting for the end of our input.
    '( while read -r _ <&3; do :; done; kill -TERM "$pid" ) >/dev/null 2>&1 &',
    "watchdog=$!",
    "exec 3<&-",
    'wait "$pid"',
    "status=$?",
    'kill "$watchdog" 2>/dev/null',
    'exit "$status"',
  ].join("\n");
}

/** SIGKILL the server whose pid is in DIR/prometheus.pid (when stop() has waited long enough). */
export function killScript(dir: string): string {
  const pidFile = `${shQuote(dir)}/prometheus.pid`;
  return `[ -f ${pidFile} ] && kill -KILL "$(cat ${pidFile})" 2>/dev/null; exit 0`;
}

/** The last lines of the server's log. */
export function tailScript(dir: string, lines = 15): string {
  return `tail -n ${lines} ${shQuote(dir)}/prometheus.log 2>/dev/null; exit 0`;
}

export function removeScript(dir: string): string {
  return `rm -rf ${shQuote(dir)}`;
}

/** host:port to listen on, and the URL the orchestrator reaches it at. */
export function listenAddress(listen: string, address: string): { listen: string; url: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new TroupeError("E_USAGE", `prometheus: listen ${listen}: write HOST:PORT, e.g. 0.0.0.0:9090`);
  const host = m[1] === "" || m[1] === "0.0.0.0" || m[1] === "[::]" ? address : (m[1] ?? address);
  const shown = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return { listen, url: `http://${shown}:${m[2]}`, port: Number(m[2]) };
}
