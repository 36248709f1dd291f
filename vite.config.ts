// The web page (src/web): `npm run web` serves it, `npm run build:web` writes it to dist/web.
// The .wasm is the same file the Node engine reads (src/core/wasm/plurisim.wasm): src/web/index.ts
// refers to it with `new URL(..., import.meta.url)`, which Vite copies as a hashed asset.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL("./src/web", import.meta.url));

export default defineConfig({
  root,
  base: "./",
  build: {
    outDir: fileURLToPath(new URL("./dist/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 4000,
    assetsInlineLimit: 0,
  },
  worker: { format: "es" },
  server: { host: "127.0.0.1", fs: { allow: [fileURLToPath(new URL(".", import.meta.url))] } },
  preview: { host: "127.0.0.1" },
});
