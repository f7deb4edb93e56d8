// transfer/: the project bundle (include, exclude, rename, repack), pushed
// byte for byte to every host, and artifacts fetched back.

export { BUNDLE_NAME, buildProjectBundle, pushBundle, unpackLocal } from "./bundle.js";
export type { Bundle, BuildBundleOptions, PushOptions } from "./bundle.js";
export { extractSafely, fetchArtifacts, listArtifactsScript } from "./artifacts.js";
export type { FetchArtifactsOptions } from "./artifacts.js";
export { applyRenames, applyRule, parseRename, parseRenames, RenameSyntaxError } from "./rename.js";
export type { RenameRule, RenameTarget } from "./rename.js";
export { compileExcludes, globToRegExpSource } from "./wildcard.js";
export { ALWAYS_EXCLUDED, NEVER_SENT_TOP, selectEntries } from "./select.js";
export type { EntryKind, SelectedEntry, SelectOptions } from "./select.js";
export { runRepack } from "./repack.js";
export type { RepackOptions } from "./repack.js";
