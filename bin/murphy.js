#!/usr/bin/env node
// The `murphy` command: runs src/cli/main.ts through tsx. isolated-vm (the sandbox) wants
// --no-node-snapshot on Node 20+, so the CLI always runs in a child node with that flag.
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");
const { pathToFileURL } = require("node:url");

const root = path.join(__dirname, "..");
const tsx = pathToFileURL(require.resolve("tsx", { paths: [root] })).href;
const main = path.join(root, "src", "cli", "main.ts");
const result = spawnSync(process.execPath, ["--no-node-snapshot", "--import", tsx, main, ...process.argv.slice(2)], {
  stdio: "inherit",
});
if (result.error) throw result.error;
process.exit(result.status === null ? 1 : result.status);
