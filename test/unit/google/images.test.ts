// Spread's image rules: terms, where to look, what the boot disk names.

import { test } from "node:test";
import assert from "node:assert/strict";
import { containsTerms, lookupProjects, sourceImage, terms, termsMatch } from "../../../src/backends/google/images.js";

test("terms are runs of letters and numbers with dots inside, lower-cased", () => {
  assert.deepEqual(terms("Canonical, Ubuntu, 16.04 LTS, amd64 xenial image"), [
    "canonical",
    "ubuntu",
    "16.04",
    "lts",
    "amd",
    "64",
    "xenial",
    "image",
  ]);
  assert.deepEqual(terms("ubuntu-16.04-64"), ["ubuntu", "16.04", "64"]);
  assert.deepEqual(terms("v1.2."), ["v", "1.2"]);
});

test("terms match in order, not necessarily next to each other; one term may stand for equal ones in a row (as in Spread)", () => {
  const desc = terms("Canonical, Ubuntu, 16.04 LTS, amd64 xenial");
  assert.ok(containsTerms(desc, terms("ubuntu-16.04-64")));
  assert.ok(!containsTerms(desc, terms("ubuntu-18.04-64")));
  assert.ok(!containsTerms(desc, ["16.04", "ubuntu"]), "order counts");
  assert.ok(containsTerms(["a", "b"], ["a", "a", "b"]));
});

test("a PROJECT/NAME image looks in that project only; a plain one in the backend's, then the distribution's", () => {
  assert.deepEqual(lookupProjects("my-images/base-v3", "mine"), [{ project: "my-images", name: "base-v3" }]);
  assert.deepEqual(lookupProjects("ubuntu-22.04-64", "mine"), [
    { project: "mine", name: "ubuntu-22.04-64" },
    { project: "ubuntu-os-cloud", name: "ubuntu-22.04-64" },
  ]);
  assert.deepEqual(
    lookupProjects("debian-12", "mine").map((l) => l.project),
    ["mine", "debian-cloud"],
  );
  assert.deepEqual(
    lookupProjects("fedora-40", "mine").map((l) => l.project),
    ["mine"],
  );
});

test("the boot disk's sourceImage: a family boots the family; another project's image is named with its project", () => {
  assert.equal(sourceImage("mine", "mine", { name: "base-v3" }), "global/images/base-v3");
  assert.equal(
    sourceImage("ubuntu-os-cloud", "mine", { family: "ubuntu-2204-lts" }),
    "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts",
  );
});

test("the first image listed (the newest) whose description has the terms wins", () => {
  const images = [
    { name: "new", description: "Ubuntu 22.04 LTS built 2025-11" },
    { name: "old", description: "Ubuntu 22.04 LTS built 2025-01" },
  ];
  assert.equal(termsMatch(images, "ubuntu-22.04")?.name, "new");
  assert.equal(termsMatch(images, "ubuntu-24.04"), undefined);
});
