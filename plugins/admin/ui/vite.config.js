// The dashboard's build: hashed assets under assets/, no source maps, a fixed output so the
// shipped build can be checked against the sources (tests/test_admin_build.py).
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

export default defineConfig({
  base: "./",
  plugins: [
    svelte({
      compilerOptions: {
        // Pages and panels are keyed and mounted anew for each collection, record or token,
        // so reading a prop once at mount is what they mean.
        warningFilter: (warning) => warning.code !== "state_referenced_locally",
      },
    }),
  ],
  // `npm run dev`: the API of a local pbk.
  server: { proxy: { "/api": process.env.PBK_URL || "http://127.0.0.1:8090" } },
  build: {
    outDir: process.env.PBK_ADMIN_OUT_DIR || "../pbk_admin/dist",
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
    target: "es2022",
  },
});
