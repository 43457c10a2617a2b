import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The web app talks to the HTTP API only; `fineflow serve` serves the built files from web/dist.
export default defineConfig({
  root: new URL(".", import.meta.url).pathname,
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true },
  server: { proxy: { "/api": "http://127.0.0.1:8787" } },
});
