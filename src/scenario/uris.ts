// Cross-host URIs, in any value a step uses (scripts, service commands,
// env values, copy locations, vars_updates values):
//
//   HOST://SERVICE[/more]  the endpoint of the service SERVICE started on HOST
//                          (`node-2://serve/x` -> `http://10.213.0.7:8000/x`)
//   HOST://path            a file or directory on HOST: relative to its
//                          scenario directory, or absolute with a third
//                          slash (`node-1:///var/log/syslog`)
//   self://...             the same on the host running the step
//   orchestrator://path    a file on the orchestrator (relative to the
//                          scenario file's directory)
//
// In a script, a file on another host (or the orchestrator) is fetched to
// the host running it first, and the URI becomes that copy's path. HOST must
// be one of the scenario's hosts, and the URI must not be glued to a longer
// word (`xnode-1://` is left alone; so is `http://`). This module finds and
// classifies URIs; the runner moves the files.

export interface UriRef {
  /** Offsets in the text: [start, end). */
  readonly start: number;
  readonly end: number;
  /** A host name, `self` or `orchestrator`, as written. */
  readonly host: string;
  /** What follows `://`. */
  readonly rest: string;
}

export type UriTarget =
  | { readonly kind: "service"; readonly host: string; readonly service: string; readonly value: string }
  | { readonly kind: "file"; readonly host: string; readonly path: string };

export class UriError extends Error {}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
}

/** A matcher for `NAME://` with the given host names (plus self and orchestrator). */
export function uriPattern(hostNames: Iterable<string>): RegExp {
  const names = [...new Set([...hostNames, "self", "orchestrator"])].sort((a, b) => b.length - a.length);
  return new RegExp(`(?<![A-Za-z0-9._-])(${names.map(escape).join("|")})://([^\\s'"\`<>|;&(){}]*)`, "g");
}

export function findUris(text: string, pattern: RegExp): UriRef[] {
  const out: UriRef[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    out.push({ start: m.index, end: m.index + m[0].length, host: m[1]!, rest: m[2]! });
  }
  return out;
}

/** `http://a:1/` + `/x` -> `http://a:1/x`. */
export function joinEndpoint(endpoint: string, suffix: string): string {
  if (suffix === "") return endpoint;
  if (endpoint.endsWith("/") && suffix.startsWith("/")) return endpoint + suffix.slice(1);
  return endpoint + suffix;
}

export interface ServiceLookup {
  /** The endpoint of `service` running on `host`, if it runs there (and has an endpoint: "" if not). */
  endpoint(host: string, service: string): string | undefined;
  /** The services running on `host`, for messages. */
  running(host: string): readonly string[];
  /** Whether any job of the scenario declares a service of this name. */
  declared(service: string): boolean;
}

/**
 * What a URI stands for. `self` is the host running the step (undefined
 * where there is none). A first segment naming a running service of the host
 * is that service; one naming a service declared elsewhere is an error (it
 * is not running there); anything else is a file path.
 */
export function classifyUri(ref: UriRef, self: string | undefined, services: ServiceLookup): UriTarget {
  const written = `${ref.host}://${ref.rest}`;
  let host = ref.host;
  if (host === "self") {
    if (self === undefined) throw new UriError(`${written}: self:// means the host running the step; there is none here`);
    host = self;
  }
  if (ref.rest === "") throw new UriError(`${written}: give a service name or a path after ://`);
  if (host !== "orchestrator" && !ref.rest.startsWith("/")) {
    const seg = /^[^/?#]*/.exec(ref.rest)![0];
    const endpoint = services.endpoint(host, seg);
    if (endpoint !== undefined) {
      if (endpoint === "") throw new UriError(`${written}: service ${seg} on ${host} has no endpoint: give its job an endpoint:`);
      return { kind: "service", host, service: seg, value: joinEndpoint(endpoint, ref.rest.slice(seg.length)) };
    }
    if (services.declared(seg)) {
      const running = services.running(host);
      throw new UriError(
        `${written}: service ${seg} is not running on ${host}` +
          (running.length ? ` (running there: ${running.join(", ")})` : " (no service runs there yet)"),
      );
    }
  }
  const path = ref.rest.replace(/\/+$/, "") || "/";
  return { kind: "file", host, path };
}

/** Replace every URI by what `resolve` gives for it (synchronous or not). */
export async function replaceUris(text: string, pattern: RegExp, resolve: (ref: UriRef) => string | Promise<string>): Promise<string> {
  const refs = findUris(text, pattern);
  if (refs.length === 0) return text;
  let out = "";
  let last = 0;
  for (const ref of refs) {
    out += text.slice(last, ref.start) + (await resolve(ref));
    last = ref.end;
  }
  return out + text.slice(last);
}

/** The same, for a resolver that answers at once. */
export function replaceUrisSync(text: string, pattern: RegExp, resolve: (ref: UriRef) => string): string {
  const refs = findUris(text, pattern);
  let out = "";
  let last = 0;
  for (const ref of refs) {
    out += text.slice(last, ref.start) + resolve(ref);
    last = ref.end;
  }
  return out + text.slice(last);
}
