import { test } from "node:test";
import assert from "node:assert/strict";
import { bashBody, inBash } from "../../../src/script/launcher.js";

test("bashBody gives back exactly what inBash wrapped, whatever the body holds", () => {
  for (const body of [
    "echo hi\n",
    "echo no newline",
    "cat <<'TROUPE_SCRIPT_END'\nx\nTROUPE_SCRIPT_END\n",
    "",
    "a\nTROUPE_SCRIPT_END_1\nTROUPE_SCRIPT_END\n",
  ]) {
    const text = inBash(body);
    assert.equal(bashBody(text), body.endsWith("\n") ? body : body + "\n", JSON.stringify(body));
  }
});

test("bashBody refuses anything that is not a whole wrapped script", () => {
  const text = inBash("echo hi\n");
  assert.equal(bashBody("echo hi\n"), undefined);
  assert.equal(bashBody(text.slice(0, -1)), undefined, "no end line");
  assert.equal(bashBody(text + "echo after\n"), undefined, "something after the end line");
  assert.equal(bashBody(text.replace("TROUPE_SCRIPT_END'", "OTHER'")), undefined, "a delimiter of someone else's");
});
