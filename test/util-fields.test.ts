import { test } from "node:test";
import assert from "node:assert/strict";
import { accepts, BOOLEAN, describeRule, enumOf, FieldTable, integer, parseOverride, type FieldSpec } from "../src/util/fields";

// A small table of its own: the machinery knows nothing of the run config's fields.
const FIELDS: FieldSpec[] = [
  { path: "size", rule: integer(1, 8), default: 2, doc: "how many", source: "test" },
  { path: "width", rule: { kind: "integer", min: 1, nullable: true }, default: null, doc: "null = size", source: "test" },
  { path: "opt.rate", rule: { kind: "number", min: 0, max: 1, minExclusive: true }, default: 0.5, doc: "a rate", source: "test" },
  { path: "opt.mode", rule: enumOf("fast", "slow"), default: "fast", doc: "a mode", source: "test" },
  { path: "opt.on", rule: BOOLEAN, default: false, doc: "a switch", source: "test" },
  { path: "name", rule: { kind: "string" }, default: "x", doc: "a name", source: "test" },
];
const table = new FieldTable("toy", FIELDS);

test("resolve: defaults, then the object, then overrides in order; origins recorded", () => {
  const { value, originOf } = table.resolve({ size: 3, opt: { mode: "slow" }, _comment: "skipped" }, ["size=4", 'opt={"on":true}'], "toy.json");
  assert.deepEqual(value, { size: 4, width: null, opt: { rate: 0.5, mode: "slow", on: true }, name: "x" });
  assert.equal(originOf("size"), "--set size=4");
  assert.equal(originOf("opt.mode"), "toy.json");
  assert.equal(originOf("opt.on"), '--set opt={"on":true}');
  assert.equal(originOf("opt.rate"), "the defaults");
});

test("resolve: errors name the table, the field, the rule and the origin", () => {
  assert.throws(() => table.resolve({ size: 9 }, [], "a.json"), { message: "toy.size must be an integer in [1, 8] (got 9) in a.json" });
  assert.throws(() => table.resolve({}, ["opt.rate=0"], "a.json"), { message: "toy.opt.rate must be a number in (0, 1] (got 0) in --set opt.rate=0" });
  assert.throws(() => table.resolve({ opt: 1 }, [], "a.json"), { message: "toy.opt must be an object (got 1) in a.json" });
  assert.throws(() => table.resolve({ opt: { mdoe: "fast" } }, [], "a.json"), { message: "toy.opt.mdoe is not a known field (did you mean toy.opt.mode?) in a.json" });
  assert.throws(() => table.resolve({ rate: 0.1 }, [], "a.json"), { message: "toy.rate is not a known field (did you mean toy.opt.rate?) in a.json" });
  assert.throws(() => table.resolve({}, ["qqqqqqqqqq=1"], "a.json"), { message: "toy.qqqqqqqqqq is not a known field in --set qqqqqqqqqq=1" });
  assert.throws(() => table.resolve([], [], "a.json"), { message: "toy must be a JSON object (got []) in a.json" });
  assert.throws(() => table.resolve({ name: "" }, [], "a.json"), { message: 'toy.name must be a non-empty string (got "") in a.json' });
});

test("rules: bounds, exclusivity, null, and their descriptions", () => {
  assert.equal(accepts(integer(1), 1), true);
  assert.equal(accepts(integer(1), 1.5), false);
  assert.equal(accepts(integer(1), null), false);
  assert.equal(accepts({ kind: "integer", min: 1, nullable: true }, null), true);
  assert.equal(accepts({ kind: "number", max: 1, maxExclusive: true }, 1), false);
  assert.equal(accepts({ kind: "number", max: 1, maxExclusive: true }, 0.999), true);
  assert.equal(accepts({ kind: "number" }, Infinity), false);
  assert.equal(accepts(BOOLEAN, 0), false);
  assert.equal(describeRule({ kind: "number", min: 0, minExclusive: true }), "a number > 0");
  assert.equal(describeRule({ kind: "number", max: 1, maxExclusive: true }), "a number < 1");
  assert.equal(describeRule({ kind: "integer", min: 1, nullable: true }), "an integer >= 1 or null");
  assert.equal(describeRule(enumOf("a", "b")), 'one of "a", "b"');
});

test("describe: one entry per field with its default, rule, source and doc", () => {
  const lines = table.describe();
  assert.equal(lines.length, FIELDS.length);
  assert.equal(lines[0], "size = 2  (an integer in [1, 8]; source: test)\n    how many");
});

test("parseOverride: JSON when it parses, else a string", () => {
  assert.deepEqual(parseOverride("credit.gamma=0.9"), { path: "credit.gamma", value: 0.9 });
  assert.deepEqual(parseOverride("eval.split=test"), { path: "eval.split", value: "test" });
  assert.deepEqual(parseOverride("reward.binary=true"), { path: "reward.binary", value: true });
  assert.deepEqual(parseOverride("initCheckpoint=a=b"), { path: "initCheckpoint", value: "a=b" });
  assert.throws(() => parseOverride("turns"), /--set turns: expected key.path=value/);
});
