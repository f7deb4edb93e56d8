// A tar holding one directory entry, to make a directory (and its missing
// parents) in a container with one archive request instead of an exec: the
// engine creates the parents of what it unpacks. Pure.

const BLOCK = 512;

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), "utf8");
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, "0")}\0`;
}

/**
 * A ustar archive with the directory `dir` (absolute) as its one entry,
 * named relative to `/`; undefined for `/` itself or a name ustar cannot
 * hold (over 255 bytes).
 */
export function directoryTar(dir: string, mode = 0o755): Buffer | undefined {
  const rel = dir.replace(/^\/+/, "").replace(/\/+$/, "");
  if (rel === "" || rel.split("/").some((p) => p === "" || p === "." || p === "..")) return undefined;
  const name = `${rel}/`;
  let prefix = "";
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", name.length - 2);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut <= 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(base) > 100) return undefined;
  }
  const h = Buffer.alloc(BLOCK);
  field(h, 0, 100, base);
  field(h, 100, 8, octal(mode, 8));
  field(h, 108, 8, octal(0, 8));
  field(h, 116, 8, octal(0, 8));
  field(h, 124, 12, octal(0, 12));
  field(h, 136, 12, octal(Math.floor(Date.now() / 1000), 12));
  field(h, 148, 8, "        ");
  field(h, 156, 1, "5");
  field(h, 257, 6, "ustar\0");
  field(h, 263, 2, "00");
  field(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return Buffer.concat([h, Buffer.alloc(2 * BLOCK)]);
}
