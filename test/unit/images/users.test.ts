// Login users for images (--user): parsing, ids, and the account files' text.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TroupeError } from "../../../src/util/errors.js";
import { cacheKey } from "../../../src/images/cache-key.js";
import { baseRecipe, recipeFor } from "../../../src/images/recipe.js";
import { addAccounts, allocateIds, parseUser, sudoers, type AccountFiles } from "../../../src/images/users.js";

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof TroupeError && e.code === "E_USAGE" && pattern.test(e.message));
}

const FILES: AccountFiles = {
  passwd: "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
  shadow: "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
  group: "root:x:0:\nsudo:x:27:\nnogroup:x:65534:\n",
  gshadow: "root:*::\nsudo:*::\nnogroup:*::\n",
};

describe("image login users", () => {
  it("parses NAME and NAME:PASSWORD (the password may hold colons)", () => {
    assert.deepEqual(parseUser("ubuntu:ubuntu"), { name: "ubuntu", password: "ubuntu" });
    assert.deepEqual(parseUser("ci"), { name: "ci" });
    assert.deepEqual(parseUser("a:b:c"), { name: "a", password: "b:c" });
  });

  it("refuses root, bad names and an empty password, saying why", () => {
    usageError(() => parseUser("root:x"), /root is in every image/);
    usageError(() => parseUser("Ubuntu"), /cannot be a user name/);
    usageError(() => parseUser("ubuntu:"), /empty password/);
  });

  it("gives each user the first free id from 1000, for its user and its group", () => {
    const files = { ...FILES, passwd: FILES.passwd + "old:x:1000:1000::/home/old:/bin/sh\n", group: FILES.group + "other:x:1001:\n" };
    assert.deepEqual(allocateIds(files, [{ name: "a" }, { name: "b" }]), [
      { name: "a", uid: 1002, gid: 1002 },
      { name: "b", uid: 1003, gid: 1003 },
    ]);
    usageError(() => allocateIds(FILES, [{ name: "nobody" }]), /has a user nobody already/);
  });

  it("adds the user with bash, a home, its group, the sudo group and its hash", () => {
    const out = addAccounts(FILES, [{ name: "ubuntu", uid: 1000, gid: 1000, hash: "$6$s$h" }], 20000);
    assert.match(out.passwd, /^ubuntu:x:1000:1000::\/home\/ubuntu:\/bin\/bash$/m);
    assert.match(out.shadow, /^ubuntu:\$6\$s\$h:20000:0:99999:7:::$/m);
    assert.match(out.group, /^sudo:x:27:ubuntu$/m);
    assert.match(out.group, /^ubuntu:x:1000:$/m);
    assert.match(out.gshadow, /^sudo:\*::ubuntu$/m);
    assert.ok(out.passwd.startsWith(FILES.passwd), "the existing lines stay as they were");
    assert.match(sudoers([{ name: "ubuntu" }]), /^ubuntu ALL=\(ALL\) NOPASSWD:ALL$/m);
  });

  it("keys a recipe with users apart, and one without users as before", () => {
    const plain = recipeFor("debian-12");
    const withUser = recipeFor("debian-12", { users: [{ name: "ubuntu", password: "ubuntu" }] });
    assert.equal(recipeFor("debian-12", { users: [] }).users, undefined);
    assert.notEqual(cacheKey(withUser), cacheKey(plain));
    assert.equal(cacheKey(baseRecipe(withUser)), cacheKey(plain));
    usageError(() => recipeFor("debian-12", { users: [{ name: "a" }, { name: "a" }] }), /given twice/);
  });
});
