import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyUri, findUris, joinEndpoint, replaceUris, UriError, uriPattern, type ServiceLookup } from "../../../src/scenario/uris.js";

const pattern = uriPattern(["node-1", "node-2", "node-10"]);
const services: ServiceLookup = {
  endpoint: (host, service) =>
    host === "node-2" && service === "serve" ? "http://10.213.0.7:8000" : host === "node-1" && service === "bare" ? "" : undefined,
  running: (host) => (host === "node-2" ? ["serve"] : []),
  declared: (service) => service === "serve" || service === "bare",
};

const classify = (text: string, self = "node-1") => {
  const [ref] = findUris(text, pattern);
  assert.ok(ref, `no URI in ${text}`);
  return classifyUri(ref, self, services);
};

describe("cross-host URIs", () => {
  it("find HOST:// for known hosts only, not glued to a longer word", () => {
    const refs = findUris("curl -fsS node-2://serve/x; cat node-10://out.txt http://example.org xnode-1://a self://p", pattern);
    assert.deepEqual(
      refs.map((r) => `${r.host}|${r.rest}`),
      ["node-2|serve/x", "node-10|out.txt", "self|p"],
    );
  });

  it("resolve HOST://SERVICE to the service's endpoint, with what follows", () => {
    assert.deepEqual(classify("node-2://serve"), { kind: "service", host: "node-2", service: "serve", value: "http://10.213.0.7:8000" });
    assert.equal((classify("node-2://serve/a?b") as { value: string }).value, "http://10.213.0.7:8000/a?b");
    assert.equal((classify("self://serve/", "node-2") as { value: string }).value, "http://10.213.0.7:8000/");
  });

  it("resolve HOST://path to a file on that host, relative or absolute", () => {
    assert.deepEqual(classify("node-1://out/result.txt", "node-2"), { kind: "file", host: "node-1", path: "out/result.txt" });
    assert.deepEqual(classify("node-1:///var/log/x.log"), { kind: "file", host: "node-1", path: "/var/log/x.log" });
    assert.deepEqual(classify("orchestrator://data/in.txt"), { kind: "file", host: "orchestrator", path: "data/in.txt" });
  });

  it("say when a declared service is not running on that host, or has no endpoint", () => {
    assert.throws(
      () => classify("node-1://serve"),
      (e: unknown) =>
        e instanceof UriError && /node-1:\/\/serve: service serve is not running on node-1 \(no service runs there yet\)/.test(e.message),
    );
    assert.throws(() => classify("node-1://bare"), /service bare on node-1 has no endpoint/);
    assert.throws(() => classify("node-1://"), /give a service name or a path/);
  });

  it("replace every URI in a text", async () => {
    const out = await replaceUris("a node-2://serve/x b node-1://f c", pattern, (ref) => `<${ref.host}:${ref.rest}>`);
    assert.equal(out, "a <node-2:serve/x> b <node-1:f> c");
  });

  it("join endpoints and paths with one slash", () => {
    assert.equal(joinEndpoint("http://a:1/", "/x"), "http://a:1/x");
    assert.equal(joinEndpoint("http://a:1", "/x"), "http://a:1/x");
    assert.equal(joinEndpoint("http://a:1", ""), "http://a:1");
  });
});
