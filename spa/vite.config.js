// The example SPA's build and dev server. `make run` starts `vite` on 127.0.0.1:3000: the origin the
// sandbox's SPA client and the local stage's CORS_ALLOW_ORIGIN allow (strictPort: never drift to 3001).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  server: { host: "127.0.0.1", port: 3000, strictPort: true },
  preview: { host: "127.0.0.1", port: 3000, strictPort: true },
  build: { sourcemap: true },
});
