import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  connectionOf,
  expandAnsiblePattern,
  groupHosts,
  guessFormat,
  loadInventory,
  loadYamlInventories,
  parseInventory,
  type Inventory,
} from "../../../src/backends/inventory/index.js";
import { TroupeError } from "../../../src/util/errors.js";

// YAML inventories need their reader loaded (the ssh backend and loadInventory load it).
await loadYamlInventories();

const names = (inv: Inventory, group: string): string[] => (groupHosts(inv, group) ?? []).map((h) => h.name);
const vars = (inv: Inventory, host: string): Record<string, unknown> => ({ ...inv.hosts.get(host)?.vars });

const INI = `
# a comment
mail.example.com

[web]
web[01:03].lan ansible_user=deploy
db.lan:2222 ansible_host=10.0.0.5 weight=3 enabled=True  # trailing comment
; another comment

[web:vars]
http_port=8080
ansible_user=www

[dbs]
db.lan

[prod:children]
web
dbs

[prod:vars]
env = "production"
http_port=80
`;

describe("INI inventories", () => {
  const inv = parseInventory(INI, "ini", "hosts.ini");

  it("reads groups, ranges and ungrouped hosts", () => {
    assert.deepEqual(names(inv, "web"), ["web01.lan", "web02.lan", "web03.lan", "db.lan"]);
    assert.deepEqual(names(inv, "ungrouped"), ["mail.example.com"]);
    assert.deepEqual(names(inv, "dbs"), ["db.lan"]);
    assert.deepEqual(names(inv, "all"), ["mail.example.com", "web01.lan", "web02.lan", "web03.lan", "db.lan"]);
    assert.equal(groupHosts(inv, "nope"), undefined);
  });

  it("gathers children's hosts into the parent group", () => {
    assert.deepEqual(names(inv, "prod"), ["web01.lan", "web02.lan", "web03.lan", "db.lan"]);
    assert.deepEqual(inv.groups.get("prod")?.children, ["web", "dbs"]);
    assert.deepEqual(inv.hosts.get("db.lan")?.groups, ["all", "prod", "dbs", "web"]);
  });

  it("merges variables: parent < child < host, host ports from host:port", () => {
    assert.deepEqual(vars(inv, "web02.lan"), { env: "production", http_port: "8080", ansible_user: "deploy" });
    const db = vars(inv, "db.lan");
    assert.equal(db["ansible_port"], 2222);
    assert.equal(db["ansible_host"], "10.0.0.5");
    assert.equal(db["weight"], 3);
    assert.equal(db["enabled"], true);
    assert.equal(db["ansible_user"], "www");
    assert.equal(db["env"], "production");
  });

  it("turns connection variables into an address, port and user", () => {
    const db = inv.hosts.get("db.lan");
    assert.ok(db);
    assert.deepEqual(connectionOf(db), { address: "10.0.0.5", port: 2222, user: "www" });
    const mail = inv.hosts.get("mail.example.com");
    assert.ok(mail);
    assert.deepEqual(connectionOf(mail), { address: "mail.example.com" });
  });

  it("reads IPv6 hosts with and without a port", () => {
    const v6 = parseInventory("[v6]\n[2001:db8::1]:2200\nfe80::2\n", "ini");
    assert.deepEqual(names(v6, "v6"), ["2001:db8::1", "fe80::2"]);
    assert.equal(vars(v6, "2001:db8::1")["ansible_port"], 2200);
  });

  it("reports mistakes with their line", () => {
    assert.throws(
      () => parseInventory("[web\nhost\n[web:vars]\nnovalue\n[x]\nh[3:1]\nh2 foo\n[a:children]\na\n[b:foo]\n", "ini", "inv"),
      (e: unknown) => {
        assert.ok(e instanceof TroupeError);
        assert.equal(e.code, "E_SCHEMA");
        const msgs = e.problems.map((p) => `${p.pos?.line}: ${p.message}`);
        assert.deepEqual(msgs, [
          "1: '[web': '[' is never closed",
          "4: 'novalue' in [web:vars] is not KEY=VALUE",
          "6: 'h[3:1]': range '[3:1]' goes backwards",
          "7: 'foo' after host 'h2' is not KEY=VALUE",
          "9: group 'a' cannot be its own child",
          "10: '[b:foo]' is not a section header like [group], [group:vars] or [group:children]",
        ]);
        return true;
      },
    );
  });

  it("detects cycles through children", () => {
    assert.throws(() => parseInventory("[a:children]\nb\n[b:children]\na\n", "ini", "inv"), /group 'a' is its own descendant: a -> b -> a/);
  });
});

const YAML = `
all:
  hosts:
    mail.example.com:
  vars:
    ansible_user: admin
  children:
    web:
      hosts:
        web[1:5:2].lan:
          http_port: 8080
        db-[a:b].lan:2200:
      vars:
        role: web
    prod:
      children:
        web:
        dbs:
          hosts:
            db-a.lan:
              ansible_host: 10.1.0.1
              ansible_user: postgres
`;

describe("YAML inventories", () => {
  const inv = parseInventory(YAML, "yaml", "hosts.yml");

  it("reads hosts, ranges with steps and letters, nested children", () => {
    assert.deepEqual(names(inv, "web"), ["web1.lan", "web3.lan", "web5.lan", "db-a.lan", "db-b.lan"]);
    assert.deepEqual(names(inv, "dbs"), ["db-a.lan"]);
    assert.equal(names(inv, "prod").length, 5);
    assert.deepEqual(new Set(names(inv, "prod")), new Set(["db-a.lan", "web1.lan", "web3.lan", "web5.lan", "db-b.lan"]));
    assert.deepEqual(names(inv, "ungrouped"), ["mail.example.com"]);
  });

  it("merges variables from all, groups and the host", () => {
    assert.deepEqual(vars(inv, "web3.lan"), { ansible_user: "admin", role: "web", http_port: 8080 });
    assert.deepEqual(vars(inv, "mail.example.com"), { ansible_user: "admin" });
    const dba = inv.hosts.get("db-a.lan");
    assert.ok(dba);
    assert.deepEqual(connectionOf(dba), { address: "10.1.0.1", port: 2200, user: "postgres" });
  });

  it("reports unknown keys and bad shapes with positions", () => {
    assert.throws(
      () => parseInventory("all:\n  host:\n    a:\n  children:\n    g:\n      hosts: [a, b]\n", "yaml", "inv.yml"),
      (e: unknown) => {
        assert.ok(e instanceof TroupeError);
        assert.deepEqual(
          e.problems.map((p) => `${p.pos?.file}:${p.pos?.line}:${p.pos?.col}: ${p.message}`),
          [
            "inv.yml:2:3: unknown key 'host' in group 'all'; a group has hosts, vars and children",
            "inv.yml:6:14: 'hosts' of group 'g' must be a map",
          ],
        );
        return true;
      },
    );
  });

  it("gives YAML syntax errors as E_YAML", () => {
    assert.throws(
      () => parseInventory("all:\n  hosts: [\n", "yaml", "bad.yml"),
      (e: unknown) => e instanceof TroupeError && e.code === "E_YAML",
    );
  });

  it("accepts an empty file", () => {
    assert.equal(parseInventory("", "yaml").hosts.size, 0);
  });
});

describe("inventory files", () => {
  it("guesses the format from the content", () => {
    assert.equal(guessFormat("# c\nall:\n  hosts: {}\n"), "yaml");
    assert.equal(guessFormat("[web]\nh1\n"), "ini");
    assert.equal(guessFormat("h1:2222\n"), "ini");
    assert.equal(guessFormat("---\n"), "yaml");
  });

  it("loads a file and names it in errors", async () => {
    const dir = await mkdtemp(join(tmpdir(), "troupe-inv-"));
    try {
      await writeFile(join(dir, "hosts"), "web:\n  hosts:\n    n[01:02]:\n");
      const inv = await loadInventory(join(dir, "hosts"));
      assert.deepEqual(names(inv, "web"), ["n01", "n02"]);
      await writeFile(join(dir, "bad.ini"), "[g]\nh x\n");
      await assert.rejects(
        loadInventory(join(dir, "bad.ini")),
        (e: unknown) => e instanceof TroupeError && e.problems[0]?.pos?.file === join(dir, "bad.ini") && e.problems[0]?.pos?.line === 2,
      );
      await assert.rejects(loadInventory(join(dir, "missing")), /cannot read inventory .*: no such file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("expands Ansible patterns", () => {
    assert.deepEqual(expandAnsiblePattern("w[08:10]"), ["w08", "w09", "w10"]);
    assert.deepEqual(expandAnsiblePattern("r[1:2]-[a:b]"), ["r1-a", "r1-b", "r2-a", "r2-b"]);
    assert.throws(() => expandAnsiblePattern("w[1-3]"), /not a range like/);
    assert.throws(() => expandAnsiblePattern("w[1:b]"), /mixes or misuses bounds/);
  });
});
