// Placeholder until the commands land; replaced by the real dispatcher.
export async function main(_argv: readonly string[]): Promise<number> {
  return 0;
}
