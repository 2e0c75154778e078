/**
 * The canonical renderer (src/sandbox/render.ts): golden renderings written out by hand, the
 * truncation contract, and the claim validate.ts relies on (for task Values with finite numbers
 * the rendering is exactly JSON.stringify), checked on seeded random Values.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isTruncated, MAX_RENDER_DEPTH, renderValue, TRUNCATION_MARK } from "../src/sandbox/render";
import { Rng } from "../src/util/rng";
import type { Value } from "../src/tasks/types";

const r = (v: unknown, max = 1000): string => renderValue(v, max);

test("numbers: -0 is 0, non-finite values are named, others use String()", () => {
  assert.equal(r(0), "0");
  assert.equal(r(-0), "0");
  assert.equal(r(42), "42");
  assert.equal(r(-7), "-7");
  assert.equal(r(0.1 + 0.2), "0.30000000000000004");
  assert.equal(r(1e21), "1e+21");
  assert.equal(r(1e-7), "1e-7");
  assert.equal(r(NaN), "NaN");
  assert.equal(r(Infinity), "Infinity");
  assert.equal(r(-Infinity), "-Infinity");
});

test("strings are JSON-quoted; other primitives are keywords or tagged", () => {
  assert.equal(r("ab"), '"ab"');
  assert.equal(r('a"b\\c\n'), '"a\\"b\\\\c\\n"');
  assert.equal(r("\u0001"), '"\\u0001"');
  assert.equal(r("\ud800"), '"\\ud800"'); // a lone surrogate stays visible
  assert.equal(r(""), '""');
  assert.equal(r(true), "true");
  assert.equal(r(false), "false");
  assert.equal(r(null), "null");
  assert.equal(r(undefined), "undefined");
  assert.equal(r(5n), "5n");
  assert.equal(r(-12n), "-12n");
  assert.equal(r(Symbol("tag")), "Symbol(tag)");
  assert.equal(r(Symbol()), "Symbol()");
});

test("functions show their own name only", () => {
  function named(): void {}
  const anonymous = [() => 1][0];
  assert.equal(r(named), "<function named>");
  assert.equal(r(anonymous), "<function>");
  assert.equal(r(class K {}), "<function K>");
});

test("arrays: nesting, holes, undefined, accessors never invoked, extra keys ignored", () => {
  assert.equal(r([]), "[]");
  assert.equal(r([1, [2, [3, "x"]], []]), '[1,[2,[3,"x"]],[]]');
  // index 0 is a hole, index 1 holds undefined
  const sparse: unknown[] = [];
  sparse[1] = undefined;
  sparse[2] = 3;
  assert.equal(r(sparse), "[<empty>,undefined,3]");
  let calls = 0;
  const withGetter: unknown[] = [1, 2];
  Object.defineProperty(withGetter, 1, { get: () => ++calls, enumerable: true });
  assert.equal(r(withGetter), "[1,<getter>]");
  assert.equal(calls, 0);
  const match = "abc".match(/b/) as RegExpMatchArray; // has index, input, groups
  assert.equal(r(match), '["b"]');
  assert.equal(r([-0, NaN]), "[0,NaN]");
});

test("objects: own enumerable string keys in order, tags for non-plain objects", () => {
  assert.equal(r({}), "{}");
  assert.equal(r({ b: 1, a: [2, "x"] }), '{"b":1,"a":[2,"x"]}');
  assert.equal(r(Object.create(null)), "{}");
  const hidden = { shown: 1 };
  Object.defineProperty(hidden, "hidden", { value: 2, enumerable: false });
  (hidden as Record<symbol, number>)[Symbol("s")] = 3;
  assert.equal(r(hidden), '{"shown":1}');
  let calls = 0;
  assert.equal(r({ get x() { return ++calls; } }), '{"x":<getter>}');
  assert.equal(calls, 0);
  assert.equal(r(new Map([[1, 2]])), "Map {}");
  assert.equal(r(new Set([1])), "Set {}");
  assert.equal(r(Promise.resolve(1)), "Promise {}");
  assert.equal(r(new Number(5)), "Number {}");
  assert.equal(r(new Int8Array([1, 2])), 'Int8Array {"0":1,"1":2}');
  assert.equal(r(new Error("m")), "Error {}");
});

test("cycles render as <cycle>; shared (acyclic) values render in full each time", () => {
  const a: unknown[] = [1];
  a.push(a);
  assert.equal(r(a), "[1,<cycle>]");
  const o: Record<string, unknown> = { k: 1 };
  o.self = { back: o };
  assert.equal(r(o), '{"k":1,"self":{"back":<cycle>}}');
  const shared = [1];
  assert.equal(r([shared, shared]), "[[1],[1]]");
});

test("truncation: cut at maxChars plus the mark, exactly when too large", () => {
  assert.equal(r([1, 2], 5), "[1,2]");
  assert.equal(isTruncated(r([1, 2], 5)), false);
  assert.equal(r([1, 2], 4), "[1,2" + TRUNCATION_MARK);
  assert.equal(isTruncated(r([1, 2], 4)), true);
  const long = r("a".repeat(100), 10);
  assert.equal(long, '"aaaaaaaaa' + TRUNCATION_MARK);
  assert.equal(long.length, 11);
  // A complete rendering never ends with the mark, even when the value contains it.
  assert.equal(isTruncated(r(TRUNCATION_MARK)), false);
  assert.equal(isTruncated(r(Symbol(TRUNCATION_MARK))), false);
  assert.equal(r(0, 0), TRUNCATION_MARK);
  // A huge sparse array stops at the cap instead of walking 2^32 - 1 holes.
  assert.equal(isTruncated(r(new Array(2 ** 32 - 1), 50)), true);
  assert.throws(() => renderValue(1, -1), /maxChars must be a non-negative integer \(got -1\)/);
});

test("nesting deeper than MAX_RENDER_DEPTH is cut, shallower is not", () => {
  const nest = (depth: number): unknown => {
    let v: unknown = 0;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };
  const ok = r(nest(MAX_RENDER_DEPTH - 1), 10_000);
  assert.equal(isTruncated(ok), false);
  assert.equal(ok, "[".repeat(MAX_RENDER_DEPTH - 1) + "0" + "]".repeat(MAX_RENDER_DEPTH - 1));
  assert.equal(isTruncated(r(nest(MAX_RENDER_DEPTH + 1), 10_000)), true);
});

test("proxies are rendered through their traps; a throwing trap propagates", () => {
  assert.equal(r(new Proxy([1, 2], {})), "[1,2]");
  const hostile = new Proxy([1], {
    getOwnPropertyDescriptor() {
      throw new Error("trap");
    },
  });
  assert.throws(() => r(hostile), /trap/);
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assert.throws(() => r(proxy), TypeError);
});

test("renderValue is re-entrant (a getter-free trap that renders again)", () => {
  let inner = "";
  const p = new Proxy([7], {
    get(target, key, receiver) {
      if (key === "length") inner = r([[1]]);
      return Reflect.get(target, key, receiver);
    },
  });
  assert.equal(r([p, 3]), "[[7],3]");
  assert.equal(inner, "[[1]]");
});

function randomValue(rng: Rng, depth: number): Value {
  const kind = rng.int(0, depth > 2 ? 3 : 4);
  switch (kind) {
    case 0:
      return rng.pick([0, -0, 1, -1, 7, 2 ** 31, -(2 ** 53), 1e21, 1e-7, 0.5, rng.normal() * 1e6]);
    case 1: {
      const alphabet = ["a", "Z", '"', "\\", "\n", "\u0000", "\u2028", "é", "😀", "\ud800", " ", "0"];
      return Array.from({ length: rng.int(0, 5) }, () => rng.pick(alphabet)).join("");
    }
    case 2:
      return rng.next() < 0.5;
    case 3:
      return rng.int(-500, 500);
    default:
      return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, depth + 1));
  }
}

test("for task Values with finite numbers the rendering is exactly JSON.stringify", () => {
  const rng = new Rng("render-vs-json");
  for (let i = 0; i < 2000; i++) {
    const v = randomValue(rng, 0);
    assert.equal(renderValue(v, 100_000), JSON.stringify(v), `value #${i}`);
  }
});
