#!/usr/bin/env node
// The plurisim command: runs the compiled CLI in dist/ (built by `npm install` or `npm run build`).
import { existsSync } from "node:fs";

const cli = new URL("../dist/src/node/cli.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("plurisim: the compiled code (dist/) is missing: run `npm install` (or `npm run build`) in the package folder first\n");
  process.exit(1);
}
const { main } = await import(cli.href);
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`plurisim: internal error: ${err?.stack ?? err}\n`); process.exitCode = 1; },
);
