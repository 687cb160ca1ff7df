// The dashboard is served by the agent under /ui/, from files embedded in the binary
// (src/ui/ in the C++ tree): one hashed script and one stylesheet, nothing from outside.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  build: {
    target: "es2020",
    assetsInlineLimit: 0, // the content security policy allows no data: scripts or styles
    reportCompressedSize: false,
  },
});
