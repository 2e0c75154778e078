import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadPaperIterK, paperIterKFor, PAPER_NUMBERS_FILE } from "../src/eval/paper-iterk";

test("the paper's Iter-k numbers per benchmark: only the two known LiveCodeBench gains, each with its source and claim", () => {
  const all = loadPaperIterK();
  assert.deepEqual(Object.keys(all).sort(), ["humaneval", "livecodebench", "mbpp"]);
  assert.deepEqual(all.humaneval.known, []);
  assert.deepEqual(all.mbpp.known, []);
  const lcb = paperIterKFor("livecodebench")!;
  assert.deepEqual(lcb.known.map((e) => [e.subset, e.iteration, e.quantity, e.value]), [["medium", 5, "gain", 4.38], ["hard", 5, "gain", 4.2]]);
  // Each restates a headline claim of the same file with the same value.
  const claims = JSON.parse(fs.readFileSync(PAPER_NUMBERS_FILE, "utf8")).claims as { id: string; value: number }[];
  for (const e of lcb.known) assert.equal(claims.find((c) => c.id === e.claim)?.value, e.value);
  assert.equal(paperIterKFor("kit"), null);
});

test("loadPaperIterK: a number without its source is refused, naming the entry", () => {
  const raw = JSON.parse(fs.readFileSync(PAPER_NUMBERS_FILE, "utf8"));
  delete raw.iterK.benchmarks.livecodebench.known[1].source;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "murphy-paper-")), "paper.json");
  fs.writeFileSync(file, JSON.stringify(raw));
  try {
    assert.throws(() => loadPaperIterK(file), /iterK\.benchmarks\.livecodebench\.known\[1\]\.source must be \{arxiv, version, where\} strings/);
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});
