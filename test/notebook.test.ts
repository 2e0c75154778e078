/** The notebooks' helpers (src/notebook/trees.ts, executed.ts), as pure functions. */
import { test } from "node:test";
import * as fs from "node:fs";
import * as path from "node:path";
import assert from "node:assert/strict";
import { mostVariedTree, nodeRows, rewardSpread } from "../src/notebook/trees";
import { executedNotebookLinks, notebookTitle } from "../src/notebook/executed";
import { toyTree } from "../src/murphy/toy-tree";
import { tempDir } from "./helpers/temp";

// Task -> [0 (r=0) -> [2 (r=1), 3 (r=0)], 1 (r=0.5)]; ids breadth-first.
const tree = toyTree([{ reward: 0, children: [{ reward: 1 }, { reward: 0 }] }, { reward: 0.5 }]);

test("tree helpers: reward spread, the most varied tree, rows", () => {
  // Rewards 0, 0.5, 1, 0: mean 0.375, population variance (0.140625 + 0.015625 + 0.390625 + 0.140625) / 4 = 0.171875.
  assert.ok(Math.abs(rewardSpread(tree) - Math.sqrt(0.171875)) < 1e-12);
  const flat = toyTree([{ reward: 0 }, { reward: 0 }]);
  assert.equal(mostVariedTree([flat, tree, flat]), 1);
  assert.deepEqual(nodeRows(tree, { R: [1, 0.5, 1, 0] })[0], { node: 0, parent: "task", turn: 1, outcome: "wrong_answer", r: 0, tokens: 3, R: 1 });
});

test("executedNotebookLinks: one link per executed HTML, titled by the notebook's first heading", () => {
  const dir = tempDir("murphy-executed-");
  const nb = (heading: string) => JSON.stringify({ cells: [{ cell_type: "code", source: "# not a heading" }, { cell_type: "markdown", source: ["intro\n", `# ${heading}\n`, "text"] }] });
  fs.mkdirSync(path.join(dir, "notebooks"));
  fs.writeFileSync(path.join(dir, "notebooks", "01-b.ipynb"), nb("01 · Second"));
  fs.writeFileSync(path.join(dir, "notebooks", "01-b.html"), "<html></html>");
  fs.writeFileSync(path.join(dir, "notebooks", "00-a.html"), "<html></html>");
  assert.deepEqual(executedNotebookLinks(path.join(dir, "notebooks"), path.join(dir, "report")), [
    { title: "00-a", href: "../notebooks/00-a.html" },
    { title: "01 · Second", href: "../notebooks/01-b.html" },
  ]);
  assert.deepEqual(executedNotebookLinks(path.join(dir, "missing"), dir), []);
  assert.throws(() => notebookTitle("{", "x.ipynb"), /x\.ipynb: not valid JSON/);
  fs.rmSync(dir, { recursive: true, force: true });
});
