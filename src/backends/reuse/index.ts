// Reuse: hosts kept between runs (Spread's -reuse, -reuse-pid, -resend,
// -discard). See session.ts for the semantics and file.ts for the file.

export { ReuseSession, type ReuseOptions, type OpenSessionOptions } from "./session.js";
export { discardRecorded, type DiscardOptions } from "./discard.js";
export { ReuseStore, type OpenStoreOptions } from "./store.js";
export { parseReuseFile, formatReuseFile, reuseFileName, spreadReuseFileName, TROUPE_REUSE_FILE, SPREAD_REUSE_FILE } from "./file.js";
export { isRecorded } from "./recorded.js";
export { offlineTransport } from "./offline.js";
