// Bundle a test app's convex/ directory exactly the way the official CLI (convex@1.48.0,
// src/bundler/index.ts) does before pushing: ESM, code splitting into _deps/ chunks, browser
// platform for the isolate runtime, node platform for "use node" files, schema and
// auth.config bundled separately. Prints the modules as JSON on stdout.
import * as esbuild from "esbuild";
import fs from "node:fs";
import path from "node:path";

const dir = path.resolve(process.argv[2]);
const EXTS = [".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".mts", ".cts"];

function walk(d, rel = "") {
  const out = [];
  for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
    const relPath = rel ? `${rel}/${ent.name}` : ent.name;
    if (ent.isDirectory()) {
      if (fs.existsSync(path.join(d, ent.name, "convex.config.ts"))) continue;
      out.push(...walk(path.join(d, ent.name), relPath));
    } else out.push(relPath);
  }
  return out;
}

function isEntry(relPath) {
  const base = path.basename(relPath);
  if (!EXTS.some((e) => relPath.endsWith(e))) return false;
  if (relPath.startsWith("_generated/") || relPath.startsWith("_deps/")) return false;
  if (base.startsWith(".") || base.startsWith("#")) return false;
  if (base === "schema.ts" || base === "schema.js") return false;
  if ((base.match(/\./g) || []).length > 1) return false;
  if (relPath.includes(" ")) return false;
  return true;
}

function isNode(file) {
  const src = fs.readFileSync(file, "utf8");
  return /^\s*("use node"|'use node');?/m.test(src.split("\n").slice(0, 20).join("\n"));
}

const asyncHooksShim = {
  name: "convex-node-shims",
  setup(build) {
    if (build.initialOptions.platform !== "browser") return;
    build.onResolve({ filter: /^(node:)?async_hooks$/ }, (a) => ({ path: a.path, namespace: "async-hooks-shim" }));
    build.onLoad({ filter: /.*/, namespace: "async-hooks-shim" }, () => ({
      contents: "export const AsyncLocalStorage = globalThis.AsyncLocalStorage; export const AsyncResource = globalThis.AsyncResource; export default { AsyncLocalStorage, AsyncResource };",
      loader: "js",
    }));
  },
};

async function bundle(entryPoints, platform, chunksFolder, splitting = true) {
  if (entryPoints.length === 0) return [];
  const result = await esbuild.build({
    entryPoints,
    bundle: true,
    platform,
    format: "esm",
    target: "esnext",
    jsx: "automatic",
    outdir: "out",
    outbase: dir,
    conditions: ["convex", "module"],
    plugins: [asyncHooksShim],
    write: false,
    sourcemap: true,
    sourcesContent: false,
    splitting,
    chunkNames: path.join(chunksFolder, "[hash]"),
    treeShaking: true,
    minifySyntax: true,
    minifyIdentifiers: true,
    minifyWhitespace: false,
    keepNames: true,
    define: { "process.env.NODE_ENV": '"production"' },
    metafile: true,
    logLevel: "error",
  });
  const environment = platform === "node" ? "node" : "isolate";
  const maps = new Map();
  const modules = [];
  for (const f of result.outputFiles) {
    const rel = path.relative(path.resolve("out"), f.path).split(path.sep).join("/");
    if (rel.endsWith(".map")) maps.set(rel, f.text);
    else modules.push({ path: rel, source: f.text, environment });
  }
  for (const m of modules) m.sourceMap = maps.get(m.path + ".map") ?? null;
  return modules;
}

const files = walk(dir).filter(isEntry).map((r) => path.join(dir, r));
const isolate = files.filter((f) => !isNode(f));
const node = files.filter((f) => isNode(f));
const modules = [
  ...(await bundle(isolate, "browser", "_deps")),
  ...(await bundle(node, "node", "_deps/node")),
];
for (const name of ["auth.config.ts", "auth.config.js"]) {
  const p = path.join(dir, name);
  if (fs.existsSync(p)) modules.push(...(await bundle([p], "browser", "_deps", false)));
}
let schema = null;
for (const name of ["schema.ts", "schema.js"]) {
  const p = path.join(dir, name);
  if (fs.existsSync(p) && schema === null) schema = (await bundle([p], "browser", "_deps"))[0] ?? null;
}
process.stdout.write(JSON.stringify({ modules, schema }));
