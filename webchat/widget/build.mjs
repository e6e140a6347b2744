// Builds the embeddable widget into webchat/dist/ (served by the demo page; never committed).
import { build } from "esbuild";

await build({
  entryPoints: ["src/index.js"],
  outfile: "../dist/buergerassistent-chat.js",
  bundle: true,
  format: "iife",
  minify: true,
  sourcemap: true,
  target: ["es2019"],
  legalComments: "linked",
  logLevel: "warning",
});
