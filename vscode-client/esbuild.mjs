// Bundle the extension (and vscode-languageclient) into one file; `vscode` is the host's.
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "dist/extension.js",
  external: ["vscode"],
  format: "cjs",
  platform: "node",
  target: "node20",
  minify: true,
  sourcemap: false,
  logLevel: "warning",
});
