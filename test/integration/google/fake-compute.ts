// A fake of Google Compute Engine's REST API (v1) for the google backend's
// tests: node:http on loopback, speaking the real paths and JSON shapes of
// the calls troupe makes (and that a user's own client would), with Google's
// error bodies. Instances are lab hosts (fake-guest.ts): an insert boots
// one and reports its address as the instance's networkIP and natIP; a
// delete discards it. The OAuth token endpoint and the metadata server's
// token endpoint are here too (fake-auth.ts): every Compute call must carry
// a token they handed out.
//
// The endpoint for CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE is `computeUrl`;
// the key file's token_uri is `tokenUrl`; GCE_METADATA_HOST is `metadataHost`.

import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkAssertion, keyFileJson, newServiceAccount, type ServiceAccount } from "./fake-auth.js";
import { LabGuests } from "./fake-guest.js";

export interface FakeImage {
  readonly project: string;
  readonly name: string;
  readonly family?: string;
  readonly description?: string;
  /** ISO time; newer images come first in lists and win a family. */
  readonly creationTimestamp: string;
  readonly deprecated?: boolean;
}

export interface FakeOptions {
  /** The project the test's service account belongs to and may use. */
  readonly project: string;
  readonly zones?: readonly string[];
  readonly images?: readonly FakeImage[];
  readonly machineTypes?: readonly string[];
  /** At most this many instances at once in the project (Google's INSTANCES quota); more fail as GCE does. */
  readonly instanceQuota?: number;
}

interface Operation {
  kind: "compute#operation";
  id: string;
  name: string;
  zone: string;
  operationType: string;
  targetLink: string;
  status: "PENDING" | "RUNNING" | "DONE";
  progress: number;
  insertTime: string;
  endTime?: string;
  error?: { errors: { code: string; message: string }[] };
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
  selfLink: string;
}

export interface FakeInstance {
  readonly name: string;
  readonly zone: string;
  status: "PROVISIONING" | "STAGING" | "RUNNING" | "STOPPING" | "TERMINATED";
  readonly body: Record<string, unknown>;
  labels: Record<string, string>;
  metadata: { fingerprint: string; items: { key: string; value: string }[] };
  address?: string;
  readonly creationTimestamp: string;
  readonly serial: Map<number, string>;
}

/** A request as the fake saw it, for assertions. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function fingerprint(): string {
  return randomBytes(8).toString("base64");
}

export class FakeCompute {
  readonly project: string;
  readonly account: ServiceAccount;
  readonly seen: SeenRequest[] = [];
  readonly instances = new Map<string, FakeInstance>();
  /** The next this many serial port reads answer 400 resourceNotReady, as GCE may just after an insert. */
  serialNotReady = 0;
  /** Tokens handed out; only these are accepted. */
  private readonly tokens = new Set<string>();
  private readonly operations = new Map<string, { op: Operation; done: Promise<void>; finish: () => void }>();
  private readonly guests = new LabGuests();
  private readonly zones: readonly string[];
  private readonly images: readonly FakeImage[];
  private readonly machineTypes: readonly string[];
  private server: Server | undefined;
  private port = 0;
  private opCount = 0;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly o: FakeOptions) {
    this.project = o.project;
    this.account = newServiceAccount(o.project);
    this.zones = o.zones ?? ["us-east1-b"];
    this.images = o.images ?? [];
    this.machineTypes = o.machineTypes ?? ["n1-standard-1", "e2-standard-2", "e2-medium"];
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get computeUrl(): string {
    return `http://127.0.0.1:${this.port}/compute/v1/`;
  }
  get tokenUrl(): string {
    return `http://127.0.0.1:${this.port}/token`;
  }
  get metadataHost(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The service account's key file, as the console gives it. */
  keyFile(): string {
    return keyFileJson(this.account, this.project, this.tokenUrl);
  }

  /** Instances whose guest (lab host) is up, by name. */
  running(): string[] {
    return [...this.instances.values()].filter((i) => i.status === "RUNNING").map((i) => i.name);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    for (const name of [...this.instances.keys()]) await this.guests.discard(name).catch(() => undefined);
    this.instances.clear();
    await this.guests.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Work that goes on after a response (booting, deleting); close() waits for it. */
  private track<T>(p: Promise<T>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => undefined);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake");
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
      res.end(JSON.stringify(body));
    };
    try {
      if (url.pathname === "/token" && req.method === "POST") return send(...this.token(raw));
      if (url.pathname === "/computeMetadata/v1/instance/service-accounts/default/token") {
        if (req.headers["metadata-flavor"] !== "Google") return send(403, { error: "Missing Metadata-Flavor:Google header." });
        const token = this.issue();
        return send(200, { access_token: token, expires_in: 3599, token_type: "Bearer" });
      }
      if (!url.pathname.startsWith("/compute/v1/"))
        throw new HttpError(404, "notFound", `The requested URL ${url.pathname} was not found on this server.`);
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      if (!auth || !this.tokens.has(auth)) {
        throw new HttpError(401, "required", "Request is missing required authentication credential. Expected OAuth 2 access token.");
      }
      let body: unknown;
      if (raw !== "") {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, "parseError", "Parse Error");
        }
      }
      const path = url.pathname.slice("/compute/v1/".length);
      this.seen.push({ method: req.method ?? "GET", path: path + url.search, ...(body !== undefined ? { body } : {}) });
      const [status, out] = await this.compute(req.method ?? "GET", path.split("/"), url.searchParams, body);
      send(status, out);
    } catch (err) {
      if (err instanceof HttpError) {
        return send(err.status, {
          error: { code: err.status, message: err.message, errors: [{ message: err.message, domain: "global", reason: err.reason }] },
        });
      }
      send(500, { error: { code: 500, message: String(err), errors: [{ reason: "backendError", message: String(err) }] } });
    }
  }

  private issue(): string {
    const token = `ya29.fake-${randomBytes(12).toString("hex")}`;
    this.tokens.add(token);
    return token;
  }

  private token(raw: string): [number, unknown] {
    const form = new URLSearchParams(raw);
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return [400, { error: "unsupported_grant_type", error_description: "Invalid grant_type" }];
    }
    const r = checkAssertion(form.get("assertion") ?? "", [this.account], this.tokenUrl, Math.floor(Date.now() / 1000));
    if (!r.ok) return [400, { error: r.error, error_description: r.description }];
    this.tokens.add(r.token);
    return [200, { access_token: r.token, expires_in: 3599, token_type: "Bearer" }];
  }

  private async compute(method: string, p: string[], q: URLSearchParams, body: unknown): Promise<[number, unknown]> {
    if (p[0] !== "projects" || !p[1]) throw new HttpError(404, "notFound", "Not Found");
    const project = p[1];
    const rest = p.slice(2);
    // Images of public projects may be read by anyone; everything else is the account's own project.
    if (rest[0] === "global" && rest[1] === "images" && method === "GET") return [200, this.imageCall(project, rest.slice(2), q)];
    if (project !== this.project) {
      throw new HttpError(403, "forbidden", `Required 'compute.instances.list' permission for 'projects/${project}'`);
    }
    if (rest[0] === "aggregated" && rest[1] === "instances" && method === "GET") {
      const items: Record<string, { instances?: unknown[]; warning?: unknown }> = {};
      for (const z of this.zones) {
        const list = this.list(z, q.get("filter"));
        items[`zones/${z}`] = list.length ? { instances: list } : { warning: { code: "NO_RESULTS_ON_PAGE" } };
      }
      return [200, { kind: "compute#instanceAggregatedList", items }];
    }
    if (rest[0] !== "zones" || !rest[1]) throw new HttpError(404, "notFound", "Not Found");
    const zone = rest[1];
    if (!this.zones.includes(zone)) throw new HttpError(404, "notFound", `The resource 'projects/${project}/zones/${zone}' was not found`);
    const [kind, name, verb, extra] = rest.slice(2);
    if (kind === undefined && method === "GET") return [200, { kind: "compute#zone", name: zone, status: "UP" }];
    if (kind === "operations" && name) {
      const entry = this.operations.get(name);
      if (!entry) throw new HttpError(404, "notFound", `The resource 'projects/${project}/zones/${zone}/operations/${name}' was not found`);
      if (verb === "wait" && method === "POST") await entry.done;
      return [200, entry.op];
    }
    if (kind !== "instances") throw new HttpError(404, "notFound", "Not Found");
    if (name === undefined) {
      if (method === "POST") return [200, this.insert(zone, body as Record<string, unknown>)];
      if (method === "GET") return [200, { kind: "compute#instanceList", items: this.list(zone, q.get("filter")) }];
    }
    const inst = name !== undefined ? this.instances.get(name) : undefined;
    if (!inst || inst.zone !== zone) {
      throw new HttpError(404, "notFound", `The resource 'projects/${project}/zones/${zone}/instances/${name ?? ""}' was not found`);
    }
    if (verb === undefined && method === "GET") return [200, this.view(inst)];
    if (verb === undefined && method === "DELETE") return [200, this.remove(inst)];
    if (verb === "serialPort" && method === "GET") {
      if (this.serialNotReady > 0) {
        this.serialNotReady--;
        throw new HttpError(
          400,
          "resourceNotReady",
          `The resource 'projects/${project}/zones/${zone}/instances/${inst.name}' is not ready`,
        );
      }
      const text = inst.serial.get(Number(q.get("port") ?? "1")) ?? "";
      const start = Math.min(Number(q.get("start") ?? "0"), text.length);
      return [200, { kind: "compute#serialPortOutput", contents: text.slice(start), start: String(start), next: String(text.length) }];
    }
    if (verb === "setMetadata" && method === "POST" && extra === undefined) {
      const m = body as { fingerprint?: string; items?: { key: string; value: string }[] };
      if (m.fingerprint !== inst.metadata.fingerprint) {
        throw new HttpError(412, "conditionNotMet", "Supplied fingerprint does not match current metadata fingerprint.");
      }
      inst.metadata = { fingerprint: fingerprint(), items: m.items ?? [] };
      return [200, this.operation(zone, "setMetadata", inst.name, Promise.resolve())];
    }
    throw new HttpError(404, "notFound", "Not Found");
  }

  private imageCall(project: string, rest: string[], q: URLSearchParams): unknown {
    const mine = this.images.filter((i) => i.project === project).sort((a, b) => (a.creationTimestamp < b.creationTimestamp ? 1 : -1));
    const view = (i: FakeImage): unknown => ({
      kind: "compute#image",
      name: i.name,
      family: i.family,
      description: i.description,
      creationTimestamp: i.creationTimestamp,
      status: "READY",
      selfLink: `${this.computeUrl}projects/${project}/global/images/${i.name}`,
      ...(i.deprecated ? { deprecated: { state: "DEPRECATED" } } : {}),
    });
    if (rest.length === 0) {
      const size = Number(q.get("maxResults") ?? "500");
      const from = Number(q.get("pageToken") ?? "0");
      const page = mine.slice(from, from + size);
      return {
        kind: "compute#imageList",
        items: page.map(view),
        ...(from + size < mine.length ? { nextPageToken: String(from + size) } : {}),
      };
    }
    if (rest[0] === "family" && rest[1]) {
      const found = mine.find((i) => i.family === rest[1] && !i.deprecated);
      if (!found) throw new HttpError(404, "notFound", `The resource 'projects/${project}/global/images/family/${rest[1]}' was not found`);
      return view(found);
    }
    const found = mine.find((i) => i.name === rest[0]);
    if (!found) throw new HttpError(404, "notFound", `The resource 'projects/${project}/global/images/${rest[0] ?? ""}' was not found`);
    return view(found);
  }

  /** `sourceImage` as the API takes it: `global/images/N`, `global/images/family/F`, or either under `projects/P/`. */
  private findImage(source: string): FakeImage | undefined {
    const m = /^(?:(?:https?:\/\/[^/]+\/compute\/v1\/)?projects\/([^/]+)\/)?global\/images\/(family\/)?([^/]+)$/.exec(source);
    if (!m) return undefined;
    const project = m[1] ?? this.project;
    const all = this.images.filter((i) => i.project === project).sort((a, b) => (a.creationTimestamp < b.creationTimestamp ? 1 : -1));
    return m[2] ? all.find((i) => i.family === m[3] && !i.deprecated) : all.find((i) => i.name === m[3]);
  }

  /** Only `labels.KEY = "VALUE"` filters, the form troupe uses. */
  private list(zone: string, filter: string | null): unknown[] {
    const m = filter ? /^labels\.([a-z0-9_-]+)\s*=\s*"?([^"]*)"?$/.exec(filter.trim()) : null;
    if (filter && !m) throw new HttpError(400, "invalid", `Invalid value for field 'filter': '${filter}'. Invalid list filter expression.`);
    return [...this.instances.values()].filter((i) => i.zone === zone && (!m || i.labels[m[1]!] === m[2])).map((i) => this.view(i));
  }

  private view(i: FakeInstance): unknown {
    const zoneUrl = `${this.computeUrl}projects/${this.project}/zones/${i.zone}`;
    return {
      kind: "compute#instance",
      id: createHash("sha1").update(i.name).digest("hex").slice(0, 16),
      name: i.name,
      zone: zoneUrl,
      status: i.status,
      machineType: `${zoneUrl}/machineTypes/${String(i.body["machineType"]).split("/").pop()}`,
      creationTimestamp: i.creationTimestamp,
      labels: i.labels,
      labelFingerprint: "42WmSpB8rSM=",
      metadata: { kind: "compute#metadata", ...i.metadata },
      scheduling: i.body["scheduling"] ?? { automaticRestart: true, onHostMaintenance: "MIGRATE", preemptible: false },
      networkInterfaces: i.address
        ? [
            {
              network: `${this.computeUrl}projects/${this.project}/global/networks/default`,
              networkIP: i.address,
              name: "nic0",
              accessConfigs: [{ type: "ONE_TO_ONE_NAT", name: "External NAT", natIP: i.address, networkTier: "PREMIUM" }],
            },
          ]
        : [{ network: `${this.computeUrl}projects/${this.project}/global/networks/default`, name: "nic0" }],
      selfLink: `${zoneUrl}/instances/${i.name}`,
    };
  }

  private operation(zone: string, type: string, target: string, work: Promise<void>): Operation {
    const name = `operation-${Date.now()}-${(++this.opCount).toString(16)}-${randomBytes(4).toString("hex")}`;
    const zoneUrl = `${this.computeUrl}projects/${this.project}/zones/${zone}`;
    const op: Operation = {
      kind: "compute#operation",
      id: String(this.opCount),
      name,
      zone: zoneUrl,
      operationType: type,
      targetLink: `${zoneUrl}/instances/${target}`,
      status: "RUNNING",
      progress: 0,
      insertTime: new Date().toISOString(),
      selfLink: `${zoneUrl}/operations/${name}`,
    };
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    this.operations.set(name, { op, done, finish });
    const settled = work.then(
      () => undefined,
      (err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, "INTERNAL_ERROR", String(err));
        op.error = { errors: [{ code: e.reason, message: e.message }] };
        op.httpErrorStatusCode = e.status;
      },
    );
    this.track(
      settled.then(() => {
        op.status = "DONE";
        op.progress = 100;
        op.endTime = new Date().toISOString();
        finish();
      }),
    );
    return op;
  }

  private insert(zone: string, b: Record<string, unknown>): Operation {
    const name = typeof b["name"] === "string" ? b["name"] : "";
    if (!NAME.test(name))
      throw new HttpError(
        400,
        "invalid",
        `Invalid value for field 'resource.name': '${name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
      );
    if (this.instances.has(name))
      throw new HttpError(409, "alreadyExists", `The resource 'projects/${this.project}/zones/${zone}/instances/${name}' already exists`);
    const type = /^(?:.*\/)?zones\/([^/]+)\/machineTypes\/([^/]+)$/.exec(typeof b["machineType"] === "string" ? b["machineType"] : "");
    if (!type || type[1] !== zone || !this.machineTypes.includes(type[2]!)) {
      throw new HttpError(
        400,
        "invalid",
        `Invalid value for field 'resource.machineType': '${String(b["machineType"])}'. Machine type with name '${type?.[2] ?? ""}' does not exist in zone '${zone}'.`,
      );
    }
    const disks = (b["disks"] ?? []) as { boot?: boolean; initializeParams?: { sourceImage?: string; diskSizeGb?: string } }[];
    const source = disks.find((d) => d.boot)?.initializeParams?.sourceImage ?? "";
    if (!this.findImage(source)) throw new HttpError(404, "notFound", `The resource '${source}' was not found`);
    const labels = (b["labels"] ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(labels)) {
      if (!LABEL_KEY.test(k) || typeof v !== "string" || !LABEL_VALUE.test(v)) {
        throw new HttpError(
          400,
          "invalid",
          `Invalid value for field 'resource.labels': '${k}=${String(v)}'. Label keys and values may contain lowercase letters, digits, _ and -.`,
        );
      }
    }
    const sched = b["scheduling"] as { maxRunDuration?: { seconds?: string }; instanceTerminationAction?: string } | undefined;
    if (sched?.maxRunDuration) {
      const s = Number(sched.maxRunDuration.seconds);
      if (!(s >= 30 && s <= 10_368_000))
        throw new HttpError(
          400,
          "invalid",
          `Invalid value for field 'resource.scheduling.maxRunDuration.seconds': '${String(sched.maxRunDuration.seconds)}'.`,
        );
      if (!["STOP", "DELETE"].includes(sched.instanceTerminationAction ?? "")) {
        throw new HttpError(400, "invalid", "Invalid value for field 'resource.scheduling.instanceTerminationAction'.");
      }
    }
    const items = ((b["metadata"] as { items?: { key: string; value: string }[] } | undefined)?.items ?? []).slice();
    const inst: FakeInstance = {
      name,
      zone,
      status: "PROVISIONING",
      body: b,
      labels: { ...labels },
      metadata: { fingerprint: fingerprint(), items },
      creationTimestamp: new Date().toISOString(),
      serial: new Map(),
    };
    const quota = this.o.instanceQuota;
    if (quota !== undefined && this.instances.size >= quota) {
      // GCE takes the request and fails the operation; no instance remains.
      const region = zone.replace(/-[a-z]$/, "");
      return this.operation(
        zone,
        "insert",
        name,
        Promise.reject(new HttpError(403, "QUOTA_EXCEEDED", `Quota 'INSTANCES' exceeded.  Limit: ${quota}.0 in region ${region}.`)),
      );
    }
    this.instances.set(name, inst);
    const console = { write: (port: number, text: string) => inst.serial.set(port, (inst.serial.get(port) ?? "") + text) };
    const script = items.find((i) => i.key === "startup-script")?.value;
    const boot = (async () => {
      inst.status = "STAGING";
      const guest = await this.guests.boot(name, script, console);
      inst.address = guest.address;
      if (this.instances.get(name) !== inst) {
        await this.guests.discard(name);
        return;
      }
      inst.status = "RUNNING";
      this.track(guest.startup.catch((err: unknown) => console.write(1, `startup-script failed: ${String(err)}\n`)));
    })();
    return this.operation(zone, "insert", name, boot);
  }

  private remove(inst: FakeInstance): Operation {
    inst.status = "STOPPING";
    const work = (async () => {
      await this.guests.discard(inst.name);
      this.instances.delete(inst.name);
    })();
    return this.operation(inst.zone, "delete", inst.name, work);
  }

  /** Delete an instance at once, as the console would (for a test's own setup). */
  async deleteNow(name: string): Promise<void> {
    this.instances.delete(name);
    await this.guests.discard(name);
  }

  /** Make an instance the way a user's own client would (for gc tests): through the API's insert, with these labels. */
  async insertAs(zone: string, name: string, labels: Record<string, string>, image: string): Promise<void> {
    const op = this.insert(zone, {
      name,
      machineType: `zones/${zone}/machineTypes/${this.machineTypes[0]!}`,
      disks: [{ boot: true, initializeParams: { sourceImage: image } }],
      labels,
    });
    await this.operations.get(op.name)!.done;
    if (op.error) throw new Error(op.error.errors[0]!.message);
  }
}
