import { test } from "node:test";
import assert from "node:assert/strict";
import { exposureWarning, isLoopback, parseServeAddress } from "../../../src/serve/address.js";
import { separateServeValue } from "../../../src/serve/option.js";
import { isTroupeError } from "../../../src/util/errors.js";

test("--serve alone, a port, an address and port; loopback by default", () => {
  assert.deepEqual(parseServeAddress(true), { host: "127.0.0.1", port: 0, loopback: true });
  assert.deepEqual(parseServeAddress(""), { host: "127.0.0.1", port: 0, loopback: true });
  assert.deepEqual(parseServeAddress("8080"), { host: "127.0.0.1", port: 8080, loopback: true });
  assert.deepEqual(parseServeAddress(":9000"), { host: "127.0.0.1", port: 9000, loopback: true });
  assert.deepEqual(parseServeAddress("localhost:0"), { host: "localhost", port: 0, loopback: true });
  assert.deepEqual(parseServeAddress("[::1]:8080"), { host: "::1", port: 8080, loopback: true });
  assert.deepEqual(parseServeAddress("0.0.0.0:8080"), { host: "0.0.0.0", port: 8080, loopback: false });
  assert.deepEqual(parseServeAddress("192.168.1.4:1"), { host: "192.168.1.4", port: 1, loopback: false });
});

test("a bad --serve value is a usage error that says what to write", () => {
  for (const bad of ["here:port", "1.2.3.4:70000", "a:b:c", "x y:1"]) {
    assert.throws(
      () => parseServeAddress(bad),
      (e: unknown) => isTroupeError(e) && e.code === "E_USAGE",
      bad,
    );
  }
});

test("loopback is 127.0.0.0/8, ::1 and localhost; anything else is warned about", () => {
  for (const h of ["127.0.0.1", "127.3.2.1", "::1", "localhost", "::ffff:127.0.0.1"]) assert.ok(isLoopback(h), h);
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "example.com", "128.0.0.1"]) assert.ok(!isLoopback(h), h);
  assert.equal(exposureWarning(parseServeAddress("8080")), undefined);
  assert.match(exposureWarning(parseServeAddress("0.0.0.0:8080"))!, /not on loopback.*port 8080/);
});

test("a word after --serve that is no address stays a positional argument", () => {
  assert.deepEqual(separateServeValue(["run", "--serve", "checks/"]), ["run", "--serve=", "checks/"]);
  assert.deepEqual(separateServeValue(["play", "--serve", "scenario.yaml"]), ["play", "--serve=", "scenario.yaml"]);
  assert.deepEqual(separateServeValue(["run", "--serve", "8080", "x"]), ["run", "--serve", "8080", "x"]);
  assert.deepEqual(separateServeValue(["run", "--serve", "0.0.0.0:80"]), ["run", "--serve", "0.0.0.0:80"]);
  assert.deepEqual(separateServeValue(["run", "--serve", "-v"]), ["run", "--serve", "-v"]);
});
