#!/usr/bin/env node
/**
 * `npm run test:unit`: the fast tests, every test/*.test.ts except the integration tests listed
 * below, which start processes (sandbox workers, the Python sandbox, `murphy serve`, the CLI,
 * Jupyter kernels, Chromium) or train a model through the whole loop. `npm test` runs everything.
 * Extra arguments go to node --test (e.g. `npm run test:unit -- --test-name-pattern=IntraP`).
 */
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const INTEGRATION = new Set([
  "bench-openai", // spawns the murphy command against a scripted server, Python sandbox
  "benchmarks-canonical", // every HumanEval reference and an MBPP sample through the Python sandbox
  "benchmarks-iterk", // Python sandbox, and spawns `murphy eval|run|tasks --bench`
  "cli", // spawns the murphy command (and loads the base policy for `murphy eval`)
  "cli-openai", // starts `murphy serve` and spawns `murphy eval|rollout --policy openai` against it
  "cli-train", // spawns `murphy train` for a two-step run
  "eval-iterk", // sandbox workers
  "experiments-determinism", // trains and evaluates an experiment twice
  "experiments-runner", // experiment cells in their own processes
  "explorer", // Chromium
  "murphy-rollout", // sandbox workers
  "murphy-trainer", // the whole training loop
  "notebooks", // Jupyter kernels
  "pretrain-dataset", // sandbox workers
  "pysandbox-hostile", // Python sandbox processes, hostile programs that run into their time limits
  "render", // Chromium
  "report", // spawns `murphy report`
  "sandbox", // sandbox workers
  "sandbox-hostile", // sandbox workers, memory bombs
  "tasks-references", // every reference program through the sandbox
]);

const files = fs
  .readdirSync(path.join(ROOT, "test"))
  .filter((f) => f.endsWith(".test.ts") && !INTEGRATION.has(f.replace(/\.test\.ts$/, "")))
  .sort()
  .map((f) => path.join("test", f));
const args = ["--no-node-snapshot", "--import", "tsx", "--test", "--test-concurrency=2", ...process.argv.slice(2), ...files];
const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "inherit" });
process.exit(result.status ?? 1);
