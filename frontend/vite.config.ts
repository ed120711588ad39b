// Build config: assets under /console-assets/ so Django serves them next to the /v1 API.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/console-assets/",
  build: { outDir: "dist", assetsDir: ".", sourcemap: false, target: "es2022" },
});
