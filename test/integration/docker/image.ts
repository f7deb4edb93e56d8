// The image the docker tests run: `troupe-test-debian:latest`, imported from
// a Debian root filesystem tarball (TROUPE_TEST_ROOTFS, by default the
// machine's cached /var/cache/troupe-dev/bookworm-rootfs.tar) when the
// engine does not have it yet. To be switched to `troupe image build` once
// that exists.

import { createReadStream, existsSync } from "node:fs";
import { DockerApi, DockerApiError } from "../../../src/backends/docker/engine-api.js";
import { testRootfs } from "../images/store.js";

export const TEST_IMAGE = "troupe-test-debian:latest";

let ready: Promise<void> | undefined;

export function testImage(api: DockerApi = new DockerApi()): Promise<void> {
  ready ??= ensure(api);
  return ready;
}

async function ensure(api: DockerApi): Promise<void> {
  try {
    await api.json("GET", `/images/${TEST_IMAGE}/json`, "looking up the test image");
    return;
  } catch (err) {
    if (!(err instanceof DockerApiError && err.status === 404)) throw err;
  }
  const rootfs = testRootfs();
  if (!existsSync(rootfs)) {
    throw new Error(
      `the docker tests need ${TEST_IMAGE}, or a root filesystem tarball at ${rootfs} (TROUPE_TEST_ROOTFS) to import it from`,
    );
  }
  const [repo, tag] = TEST_IMAGE.split(":");
  const res = await api.request("POST", "/images/create", {
    query: { fromSrc: "-", repo, tag },
    body: createReadStream(rootfs),
    contentType: "application/x-tar",
  });
  let text = "";
  for await (const c of res.body) text += (c as Buffer).toString();
  if (res.status !== 200 || /"error"/.test(text)) throw new Error(`importing ${rootfs} as ${TEST_IMAGE} failed: ${text.slice(-500)}`);
}
