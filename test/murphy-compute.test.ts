import { test } from "node:test";
import assert from "node:assert/strict";
import { prefillTokens } from "../src/murphy/compute";

test("prefillTokens: each distinct prompt of a sampling call once, real tokens only", () => {
  // A group of 3 siblings (one prompt of 4 tokens), a group of 2 (3 tokens), and a single 5-token
  // prompt: 4 + 3 + 5, not 3*4 + 2*3 + 5.
  const a = [1, 2, 3, 4], b = [7, 8, 9], c = [1, 2, 3, 4, 5];
  assert.equal(prefillTokens([a, a, b, a, b, c]), 12);
  // A prefix of another prompt is a different prompt.
  assert.equal(prefillTokens([a, c]), 9);
  assert.equal(prefillTokens([]), 0);
});
