// The Prometheus HTTP API's answers, typed: instant queries
// (/api/v1/query) and the target list (/api/v1/targets).

export type Labels = Readonly<Record<string, string>>;
/** A sample: [unix seconds, value as Prometheus prints it]. */
export type Sample = readonly [number, string];

export type QueryResult =
  | { readonly resultType: "vector"; readonly result: readonly { readonly metric: Labels; readonly value: Sample }[] }
  | { readonly resultType: "matrix"; readonly result: readonly { readonly metric: Labels; readonly values: readonly Sample[] }[] }
  | { readonly resultType: "scalar"; readonly result: Sample }
  | { readonly resultType: "string"; readonly result: Sample };

export interface ActiveTarget {
  readonly scrapeUrl: string;
  readonly labels: Labels;
  readonly health: "up" | "down" | "unknown";
  readonly lastError: string;
}

interface ApiAnswer<T> {
  readonly status: "success" | "error";
  readonly data?: T;
  readonly error?: string;
  readonly errorType?: string;
}

/** GET `path` of the API; throws an Error with Prometheus' own message when it answers with an error. */
export async function apiGet<T>(base: string, path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`${base}${path}`, signal ? { signal } : {});
  const text = await res.text();
  let body: ApiAnswer<T>;
  try {
    body = JSON.parse(text) as ApiAnswer<T>;
  } catch {
    throw new Error(`${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (body.status !== "success" || body.data === undefined)
    throw new Error(`${path}: ${body.errorType ?? "error"}: ${body.error ?? `HTTP ${res.status}`}`);
  return body.data;
}

export function queryPath(promql: string): string {
  return `/api/v1/query?query=${encodeURIComponent(promql)}`;
}

/** The numbers of a vector or scalar result (NaN for values Prometheus prints as such). */
export function values(r: QueryResult): number[] {
  switch (r.resultType) {
    case "vector":
      return r.result.map((s) => Number(s.value[1]));
    case "scalar":
      return [Number(r.result[1])];
    case "matrix":
      return r.result.flatMap((s) => s.values.map((v) => Number(v[1])));
    case "string":
      return [];
  }
}
