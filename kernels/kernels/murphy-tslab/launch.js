#!/usr/bin/env node
// Starts the tslab TypeScript kernel for the kit. Arguments pass through to tslab
// ("kernel --config-path <connection file>"). Two changes to how tslab runs:
//
// 1. The working directory is the project root, whatever folder Jupyter starts the kernel in.
//    tslab only compiles imports from below its working directory, and the kit's src/ resolves
//    data/ and configs/ from the root: notebooks import "./src/..." and see the same relative
//    paths as the CLI.
// 2. tslab's compiler does not watch files on disk. It reacts to a changed source file by
//    scheduling a rebuild, and a rebuild pending when the next cell runs crashes it ("Unexpected
//    pending rebuildTimer"): editing src/ (or another process writing there) while a notebook
//    runs would fail a cell. Node caches loaded modules anyway, so to pick up an edit of src/,
//    restart the kernel.
"use strict";
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..", "..");
process.chdir(root);
const tslabDir = path.join(root, "node_modules", "tslab");
const ts = require(require.resolve("@tslab/typescript-for-tslab", { paths: [tslabDir] }));
const inert = () => ({ close() {} });
ts.sys.watchFile = inert;
ts.sys.watchDirectory = inert;
require(path.join(tslabDir, "dist", "main.js")).main();
