// Cache keys: the same recipe, the same key; any change, another.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cacheKey, canonicalJson } from "../../../src/images/cache-key.js";
import { recipeFor } from "../../../src/images/recipe.js";

describe("image cache keys", () => {
  it("are 16 hex digits, the same for the same recipe", () => {
    const k = cacheKey(recipeFor("debian-12"));
    assert.match(k, /^[0-9a-f]{16}$/);
    assert.equal(cacheKey(recipeFor("debian-12")), k);
  });

  it("do not depend on the order of an object's keys", () => {
    assert.equal(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }), canonicalJson({ a: [2, { c: 4, d: 3 }], b: 1 }));
    assert.equal(canonicalJson({ a: 1, u: undefined }), '{"a":1}');
  });

  it("change with the release, the mirror, a package or a configuration step", () => {
    const base = recipeFor("debian-12");
    const keys = [
      cacheKey(base),
      cacheKey(recipeFor("debian-13")),
      cacheKey(recipeFor("debian-12", { mirror: "http://ftp.de.debian.org/debian" })),
      cacheKey({ ...base, packages: [...base.packages, "curl"] }),
      cacheKey({ ...base, qemu: { ...base.qemu, sizeMiB: 8192 } }),
      cacheKey({
        ...base,
        configuration: { ...base.configuration, files: base.configuration.files.map((f) => ({ ...f, content: f.content + "#" })) },
      }),
    ];
    assert.equal(new Set(keys).size, keys.length);
  });
});
