/**
 * The committed notebooks and the headless runner (scripts/notebooks.py):
 * - every notebook is committed clean (no outputs, no execution counts) on the kit's kernel;
 * - the runner passes a good notebook, fails one with a bad cell (tslab reports that only as stderr
 *   text) and one whose error is thrown later from a timer, ends with "notebooks: N passed, M
 *   failed", exits 1, writes executed copies, and never modifies the notebooks it runs.
 * Needs /usr/bin/python3 with nbclient (scripts/setup.sh installs it); each tiny notebook costs a
 * kernel start (~5 s).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../src/paths";
import { tempDir } from "./helpers/temp";

const NOTEBOOKS_DIR = path.join(ROOT, "notebooks");
const EXPECTED = [
  "00-quickstart",
  "01-environment",
  "01b-python-benchmarks",
  "02-policy",
  "03-rollout-tree",
  "04-credit-assignment",
  "05-pruning",
  "05b-loss-and-update",
  "06-reproduce",
  "07-train-live",
  "08-real-models",
];

interface Cell {
  id?: string;
  cell_type: string;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
  metadata?: Record<string, unknown>;
}
interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name?: string } };
  nbformat: number;
}

function readNotebook(file: string): Notebook {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
}

function notebookJson(cells: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "murphy-tslab", display_name: "TypeScript (MURPHY kit, tslab)", language: "typescript" } },
    cells: cells.map((source, i) => ({ id: `cell-${i}`, cell_type: "code", metadata: {}, execution_count: null, outputs: [], source })),
  });
}

test("the notebooks are committed, on the kit's kernel, without outputs or execution counts", () => {
  const names = fs.readdirSync(NOTEBOOKS_DIR).filter((f) => f.endsWith(".ipynb")).map((f) => f.replace(/\.ipynb$/, "")).sort();
  assert.deepEqual(names, EXPECTED);
  for (const name of names) {
    const nb = readNotebook(path.join(NOTEBOOKS_DIR, `${name}.ipynb`));
    assert.equal(nb.nbformat, 4, `${name}: nbformat`);
    assert.equal(nb.metadata.kernelspec?.name, "murphy-tslab", `${name}: kernelspec.name`);
    assert.ok(nb.cells.some((c) => c.cell_type === "markdown"), `${name}: has no markdown cell`);
    // nbformat 4.5 requires a unique id per cell (nbformat warns now and will refuse later).
    const ids = nb.cells.map((c, i) => {
      assert.ok(typeof c.id === "string" && c.id.length > 0, `${name} cell ${i}: missing "id" (nbformat 4.5)`);
      return c.id;
    });
    assert.equal(new Set(ids).size, ids.length, `${name}: cell ids must be unique`);
    nb.cells.forEach((c, i) => {
      if (c.cell_type !== "code") return;
      assert.deepEqual(c.outputs, [], `${name} cell ${i}: outputs must be empty`);
      assert.equal(c.execution_count, null, `${name} cell ${i}: execution_count must be null`);
      const source = Array.isArray(c.source) ? c.source.join("") : c.source;
      // The kernel runs at the project root (kernels/kernels/murphy-tslab/launch.js): imports of the kit are "./src/...".
      assert.ok(!/from "\.\.\/src\//.test(source), `${name} cell ${i}: import the kit as "./src/..." (the kernel runs at the project root)`);
    });
  }
});

test("the kernelspec is project-local and starts tslab through launch.js with --no-node-snapshot", () => {
  const dir = path.join(ROOT, "kernels", "kernels", "murphy-tslab");
  const spec = JSON.parse(fs.readFileSync(path.join(dir, "kernel.json"), "utf8")) as { argv: string[]; env: Record<string, string> };
  assert.equal(spec.argv[1], "{resource_dir}/launch.js");
  assert.ok(spec.argv.includes("{connection_file}"));
  assert.match(spec.env.NODE_OPTIONS, /--no-node-snapshot/);
  assert.ok(fs.existsSync(path.join(dir, "launch.js")));
});

const HAS_NBCLIENT = spawnSync("/usr/bin/python3", ["-c", "import nbclient, nbconvert"]).status === 0;

test("the runner passes a good notebook and fails a bad cell and a late timer error, without touching the notebooks", { timeout: 180_000 }, (t) => {
  if (!HAS_NBCLIENT) return t.skip("/usr/bin/python3 lacks nbclient/nbconvert (apt-get install python3-nbclient jupyter-nbconvert; scripts/setup.sh does it)");
  const dir = tempDir("murphy-nb-runner-");
  const out = path.join(dir, "out");
  const files = {
    good: notebookJson(['const x: number = 6 * 7;\nconsole.log("answer", x);', 'console.error("a warning on stderr is not an error");']),
    "bad-cell": notebookJson(['console.log("before");', 'throw new Error("boom in a cell");', 'console.log("never runs");']),
    "late-error": notebookJson(['setTimeout(() => { throw new Error("boom from a timer"); }, 50);\nconsole.log("scheduled");']),
    "type-error": notebookJson(['const y: number = "not a number";']),
  };
  const paths = Object.entries(files).map(([name, text]) => {
    const file = path.join(dir, `${name}.ipynb`);
    fs.writeFileSync(file, text);
    return file;
  });
  const result = spawnSync("/usr/bin/python3", [path.join(ROOT, "scripts", "notebooks.py"), ...paths, "--out", out], { encoding: "utf8", timeout: 170_000 });
  const stdout = result.stdout;
  assert.equal(result.status, 1, `exit code (stdout: ${stdout}, stderr: ${result.stderr.slice(-2000)})`);
  const lines = stdout.trim().split("\n");
  assert.equal(lines[lines.length - 1], "notebooks: 1 passed, 3 failed");
  assert.match(stdout, /PASS \S*good\.ipynb/);
  assert.match(stdout, /FAIL \S*bad-cell\.ipynb[\s\S]*code cell 1 failed[\s\S]*boom in a cell/);
  assert.match(stdout, /FAIL \S*late-error\.ipynb[\s\S]*UncaughtException[\s\S]*boom from a timer/);
  assert.match(stdout, /FAIL \S*type-error\.ipynb[\s\S]*not assignable to type 'number'/);
  // Inputs untouched; executed copies and HTML written, without the runner's own cells.
  for (const [name, text] of Object.entries(files)) {
    assert.equal(fs.readFileSync(path.join(dir, `${name}.ipynb`), "utf8"), text, `${name}.ipynb was modified`);
    assert.ok(fs.existsSync(path.join(out, `${name}.html`)), `${name}.html not written`);
  }
  const good = readNotebook(path.join(out, "good.ipynb"));
  assert.equal(good.cells.length, 2);
  assert.match(JSON.stringify(good.cells[0].outputs), /answer 42/);
  fs.rmSync(dir, { recursive: true, force: true });
});
