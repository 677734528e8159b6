/**
 * valibot for fanout's own schemas, apart from core/deps.ts: each file
 * takes it as the namespace import `v` of this module. Used only as
 * `v.name`, a namespace import lets the bundler refer to each function
 * directly. A namespace re-exported as a value (the SDK's `v`, in deps.ts)
 * is built by the bundled binary as an object with a getter per export
 * (hundreds) whenever valibot loads: about 2 ms of every compiled run's
 * start, measured alone. Plugins get theirs when the first one is imported
 * (core/runtime/import_plugin.ts).
 */
export * from "valibot";
