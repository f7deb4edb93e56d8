// Ansible's INI inventory format:
//
//   mail.example.com                  # before any section: group `ungrouped`
//   [web]
//   web[01:20].lan ansible_user=deploy
//   db.lan:2222 ansible_host=10.0.0.5
//   [web:vars]
//   http_port=8080
//   [prod:children]
//   web
//
// Inline host variables are read as literals (numbers, True/False, None,
// quoted strings); `:vars` values are strings, as Ansible documents.

import type { SourcePos } from "../../model/position.js";
import { InventoryBuilder, type Inventory } from "./model.js";
import { expandAnsiblePattern, isIPv6, PatternError, splitHostPort } from "./pattern.js";

type Section = { kind: "hosts" | "vars" | "children"; group: string };

export function parseIniInventory(text: string, file = "<text>"): Inventory {
  const b = new InventoryBuilder(file);
  let section: Section = { kind: "hosts", group: "ungrouped" };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const pos: SourcePos = { file, line: i + 1, col: 1 + (raw.length - raw.trimStart().length) };
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const header = line.startsWith("[") ? /^\[([^\]:\s]+)(?::(vars|children))?\]\s*(?:[#;].*)?$/.exec(line) : null;
    // Like Ansible: a line in brackets that is no valid header is an error;
    // `[2001:db8::1]:22` is a host.
    if (header || (line.startsWith("[") && /\]\s*(?:[#;].*)?$/.test(line))) {
      const m = header;
      if (!m) {
        b.problem(`'${line}' is not a section header like [group], [group:vars] or [group:children]`, pos);
        section = { kind: "hosts", group: "\0invalid" };
        return;
      }
      const group = m[1] ?? "";
      const kind = (m[2] as Section["kind"] | undefined) ?? "hosts";
      if (!/^[A-Za-z0-9_.-]+$/.test(group)) b.problem(`'${group}' is not a valid group name (letters, digits, _ . -)`, pos);
      b.group(group, pos);
      section = { kind, group };
      return;
    }
    if (section.group === "\0invalid") return;
    switch (section.kind) {
      case "vars": {
        const eq = line.indexOf("=");
        if (eq <= 0) {
          b.problem(`'${line}' in [${section.group}:vars] is not KEY=VALUE`, pos);
          return;
        }
        const key = line.slice(0, eq).trim();
        b.setGroupVars(section.group, { [key]: unquote(stripComment(line.slice(eq + 1)).trim()) });
        return;
      }
      case "children": {
        const child = stripComment(line).trim();
        if (!/^[A-Za-z0-9_.-]+$/.test(child)) {
          b.problem(`'${child}' in [${section.group}:children] is not a group name`, pos);
          return;
        }
        if (child === section.group) {
          b.problem(`group '${child}' cannot be its own child`, pos);
          return;
        }
        b.addChild(section.group, child, pos);
        return;
      }
      case "hosts":
        hostLine(b, section.group, line, pos);
    }
  });
  return b.build();
}

function hostLine(b: InventoryBuilder, group: string, line: string, pos: SourcePos): void {
  let tokens: string[];
  try {
    tokens = shellWords(line);
  } catch (e) {
    b.problem((e as Error).message, pos);
    return;
  }
  const [first, ...rest] = tokens;
  if (first === undefined) return;
  const vars: Record<string, unknown> = {};
  for (const t of rest) {
    const eq = t.indexOf("=");
    if (eq <= 0) {
      b.problem(`'${t}' after host '${first}' is not KEY=VALUE`, pos);
      return;
    }
    vars[t.slice(0, eq)] = literal(t.slice(eq + 1));
  }
  const { pattern, port } = splitHostPort(first);
  if (port !== undefined && vars["ansible_port"] === undefined) vars["ansible_port"] = port;
  let names: string[];
  try {
    names = isIPv6(pattern) ? [pattern] : expandAnsiblePattern(pattern);
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    b.problem(e.message, pos);
    return;
  }
  for (const name of names) b.addHost(group, name, vars, pos);
}

/** Split like a POSIX shell (quotes, backslashes), stopping at an unquoted `#`. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? "";
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else if (c === "#" && !inWord) {
      break;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in '${line}'`);
  if (inWord) words.push(cur);
  return words;
}

/** Python-literal-ish reading of an inline value, as Ansible's INI plugin does. */
function literal(v: string): unknown {
  if (/^-?\d+$/.test(v)) return Number(v);
  if (/^-?\d+\.\d*$/.test(v)) return Number(v);
  if (v === "True" || v === "true") return true;
  if (v === "False" || v === "false") return false;
  if (v === "None") return null;
  return v;
}

function stripComment(v: string): string {
  const m = /\s[#;]/.exec(v);
  return m ? v.slice(0, m.index) : v;
}

function unquote(v: string): string {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) return v.slice(1, -1);
  return v;
}
