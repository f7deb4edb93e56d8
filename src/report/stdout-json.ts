// `--json` alone: the results printed on stdout, once, when they are final.
// Waits for the write to be taken, so that a process that exits right after
// has printed it all (stdout may be a pipe).

export function printJson(text: string, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    out.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
