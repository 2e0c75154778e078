import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Rng, hashString } from "../src/util/rng";
import { readJsonl, writeFileAtomic, writeJsonl } from "../src/util/files";
import { formatDuration, Progress } from "../src/util/progress";
import { tempDir } from "./helpers/temp";

test("Rng: the same seed gives the same stream, another seed another one", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 100 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 100 }, () => c.next()));
  for (const x of xs) assert.ok(x >= 0 && x < 1);
});

test("Rng: state() resumes a stream exactly and fork() is deterministic", () => {
  const a = new Rng("run");
  for (let i = 0; i < 10; i++) a.next();
  const resumed = new Rng(a.state());
  assert.deepEqual(Array.from({ length: 20 }, () => resumed.nextUint32()), Array.from({ length: 20 }, () => a.nextUint32()));
  const f1 = new Rng(7).fork("sampling");
  const f2 = new Rng(7).fork("sampling");
  const f3 = new Rng(7).fork("init");
  assert.equal(f1.next(), f2.next());
  assert.notEqual(new Rng(7).fork("sampling").next(), f3.next());
});

test("Rng: int covers its inclusive range uniformly enough; shuffle is a permutation", () => {
  const rng = new Rng(1);
  const counts = new Map<number, number>();
  for (let i = 0; i < 6000; i++) {
    const v = rng.int(-2, 3);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort((x, y) => x - y), [-2, -1, 0, 1, 2, 3]);
  for (const n of counts.values()) assert.ok(n > 850 && n < 1150, `count ${n} near 1000`);
  const items = [1, 2, 3, 4, 5, 6, 7];
  assert.deepEqual(rng.shuffle(items).sort(), items);
  assert.throws(() => rng.int(3, 2), /lo <= hi/);
});

test("hashString matches FNV-1a + finaliser computed by hand for the empty string", () => {
  // FNV offset basis 0x811c9dc5 through the murmur3 finaliser.
  let h = 0x811c9dc5;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  assert.equal(hashString(""), h >>> 0);
  assert.notEqual(hashString("a"), hashString("b"));
});

test("writeFileAtomic leaves no temp files; readJsonl names file and line of a bad record", () => {
  const dir = tempDir("murphy-files-");
  const file = path.join(dir, "sub", "x.jsonl");
  writeJsonl(file, [{ a: 1 }, { a: 2 }]);
  assert.deepEqual(readJsonl(file), [{ a: 1 }, { a: 2 }]);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ["x.jsonl"]);
  writeFileAtomic(file, '{"a": 1}\n{"a": oops}\n');
  assert.throws(() => readJsonl(file), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2: not valid JSON`));
  assert.throws(() => readJsonl(file.replace("x.jsonl", "y.jsonl")), /y\.jsonl: file not found/);
  assert.throws(
    () => readJsonl(file, (r, where) => { throw new Error(`${where}: field "a" must be a number`); }),
    /x\.jsonl:1: field "a" must be a number/,
  );
  fs.rmSync(dir, { recursive: true });
});

test("Progress prints rate and ETA, and always the last item", () => {
  const lines: string[] = [];
  const p = new Progress("work", 4, { everyMs: 1e9, unit: "step", write: (l) => lines.push(l) });
  p.update(1);
  p.update(2);
  p.update(4, "loss 1.5");
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^work {2}1\/4 {2}25\.0% {2}[\d.]+ step\/s {2}elapsed \d+s {2}ETA /);
  assert.match(lines[1], /4\/4 {2}100\.0%.*ETA 0s {2}loss 1\.5$/);
  assert.equal(formatDuration(3725), "1h02m");
  assert.equal(formatDuration(65), "1m05s");
});
