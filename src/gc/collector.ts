// What `troupe gc` asks of each backend type: find what troupe left behind
// that nothing owns any more, and remove one such thing. Every collector
// decides by the owner labels of gc/owner.ts (or, for lab hosts, their
// records), never by names alone, so that gc removes troupe's leftovers and
// only those.

export interface Leftover {
  /** The backend type: `docker`, `lxd`, `qemu`, `lab`, `ec2`, ... */
  readonly type: string;
  /** What it is: `container`, `vm`, `image`, `instance`, `host`, ... */
  readonly kind: string;
  /** How the collector finds it again to remove it (a container id, a VM's pid file, ...). */
  readonly id: string;
  /** How people know it (a container's name). */
  readonly name: string;
  /** The run that made it, when known. */
  readonly run?: string;
  /** Why it may go: "the troupe process 1234 that made it is gone". */
  readonly reason: string;
}

export interface CollectOptions {
  readonly signal?: AbortSignal;
  /** Also what live troupe processes hold (`--all`). */
  readonly all?: boolean;
}

/** The engine is not here to ask (not running, not installed): nothing to collect there. */
export interface Unavailable {
  readonly unavailable: string;
}

export interface Collector {
  readonly type: string;
  /** troupe's leftovers of this type; `{ unavailable }` when its engine cannot be asked. */
  find(options: CollectOptions): Promise<readonly Leftover[] | Unavailable>;
  /** Remove one; safe when it is already gone. */
  remove(leftover: Leftover, options: CollectOptions): Promise<void>;
  /** After the removals (not with --dry-run): what is shared and now unused (a bridge, a network). */
  tidy?(options: CollectOptions): Promise<void>;
}
