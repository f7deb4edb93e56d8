import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rebootAndWait, SwitchableTransport } from "../../../src/backends/ssh/reboot.js";
import type { ExecOptions, ExecResult, Transport } from "../../../src/transport/transport.js";

/** A machine whose boot id changes some polls after a reboot was asked for. */
function machine(pollsDown: number) {
  const state = { boot: "boot-1", rebootAsked: false, down: 0, closed: 0, connects: 0 };
  const conn = (): Transport => ({
    label: "m",
    async exec(o: ExecOptions): Promise<ExecResult> {
      if (o.script.includes("reboot")) {
        state.rebootAsked = true;
        state.down = pollsDown;
        return { exitCode: 0, signal: null };
      }
      o.onStdout?.(Buffer.from(`${state.boot}\n`));
      return { exitCode: 0, signal: null };
    },
    put: async () => undefined,
    get: async () => {
      throw new Error("unused");
    },
    async close() {
      state.closed++;
    },
  });
  const reconnect = async () => {
    state.connects++;
    if (state.down > 0) {
      state.down--;
      if (state.down === 0) state.boot = "boot-2";
      throw new Error("Connection refused");
    }
    return { transport: conn(), close: async () => undefined };
  };
  return { state, conn, reconnect };
}

describe("REBOOT", () => {
  it("asks for a reboot and returns a connection once the boot id changed", async () => {
    const m = machine(3);
    const next = await rebootAndWait({ label: "m", transport: m.conn(), reconnect: m.reconnect, timeoutMs: 5000, pollMs: 5 });
    assert.equal(m.state.rebootAsked, true);
    assert.equal(m.state.connects, 4);
    const out: Buffer[] = [];
    await next.transport.exec({ script: "cat /proc/sys/kernel/random/boot_id", onStdout: (c) => out.push(c) });
    assert.equal(Buffer.concat(out).toString().trim(), "boot-2");
  });

  it("fails as an infrastructure error when the machine does not come back", async () => {
    const m = machine(1_000_000);
    await assert.rejects(
      rebootAndWait({ label: "m", transport: m.conn(), reconnect: m.reconnect, timeoutMs: 100, pollMs: 10 }),
      (e: unknown) =>
        e instanceof Error &&
        "code" in e &&
        e.code === "E_TRANSPORT" &&
        /did not come back from REBOOT/.test(e.message) &&
        /Connection refused/.test(e.message),
    );
  });

  it("keeps one transport object for the host and swaps the connection behind it", async () => {
    const m = machine(0);
    const first = m.conn();
    const sw = new SwitchableTransport(first);
    await sw.switchTo(m.conn());
    assert.equal(m.state.closed, 1);
    assert.equal(sw.label, "m");
  });
});
