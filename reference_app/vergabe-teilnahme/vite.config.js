// Vite-Build: frontend/main.js (mit Tailwind-CSS, HTMX, Alpine.js) nach static/dist/ samt
// Manifest static/dist/.vite/manifest.json, das der Template-Tag vite_assets liest.
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [tailwindcss()],
  base: "/static/dist/",
  publicDir: false,
  build: {
    outDir: "static/dist",
    emptyOutDir: true,
    manifest: true,
    assetsDir: "assets",
    rollupOptions: {
      input: "frontend/main.js",
    },
  },
});
