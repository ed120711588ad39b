"use node";
/* A "use node" action using an external package (convex.json node.externalPackages): the CLI
leaves it out of the bundle and the deployment installs it from the npm registry. */
import isNumberImported from "is-number";
import { v } from "convex/values";
import { action } from "./_generated/server";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const isNumberRequired = require("is-number");

export const check = action({
  args: { values: v.array(v.string()) },
  handler: async (_ctx, { values }) => ({
    imported: values.map((x) => isNumberImported(x)),
    required: values.map((x) => isNumberRequired(x)),
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    version: require("is-number/package.json").version,
    // Node built-ins through require() too (esbuild leaves it to the runtime's global).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    base: require("node:path").posix.basename("/x/y.txt"),
  }),
});
