// A small seeded PRNG so that the same seed gives the same run order on every
// machine and Node version. mulberry32 (Tommy Ettinger, public domain): a
// 32-bit state advanced by the golden-ratio constant, then mixed.

export function mulberry32(seed: number): () => number {
  let state = seedTo32(seed);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fold any finite number (Spread seeds are 64-bit) into 32 bits, keeping high bits' influence. */
function seedTo32(seed: number): number {
  if (!Number.isFinite(seed)) return 0;
  const n = Math.trunc(seed);
  const lo = n >>> 0;
  const hi = Math.floor(n / 4294967296) >>> 0;
  return (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
}

/** A random permutation of 0..n-1, built like Go's rand.Perm (inside-out Fisher-Yates). */
export function permutation(n: number, random: () => number): number[] {
  const m = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const j = Math.floor(random() * (i + 1));
    m[i] = m[j]!;
    m[j] = i;
  }
  return m;
}
