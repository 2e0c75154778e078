import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/util/rng";
import { chunks, SPECIAL_TOKENS, Tokenizer } from "../src/model/tokenizer";

test("tokenizer: vocabulary layout is pad, five specials, printable ASCII, newline", () => {
  const tok = new Tokenizer();
  assert.equal(tok.vocabSize, 6 + 95 + 1);
  assert.deepEqual(
    [tok.pad, tok.task, tok.attempt, tok.feedback, tok.answer, tok.end],
    [0, 1, 2, 3, 4, 5],
  );
  assert.deepEqual(tok.encode(" "), [6]); // ASCII 32 is the first character id
  assert.deepEqual(tok.encode("A"), [6 + (65 - 32)]);
  assert.deepEqual(tok.encode("~"), [6 + (126 - 32)]);
  assert.deepEqual(tok.encode("\n"), [101]);
  assert.deepEqual(tok.encode(""), []);
});

test("tokenizer: round trip of every printable ASCII character, newlines and real code", () => {
  const tok = new Tokenizer();
  let all = "";
  for (let c = 32; c <= 126; c++) all += String.fromCharCode(c);
  all += "\n";
  assert.equal(tok.decode(tok.encode(all)), all);
  const code = "(xs, k) => {\n  const s = xs.reduce((a, b) => a + b, 0);\n  return `${s * k}` + '~|\\\\';\n}";
  const ids = tok.encode(code);
  assert.equal(ids.length, code.length);
  assert.equal(tok.decode(ids), code);
});

test("tokenizer: random ASCII strings round trip", () => {
  const tok = new Tokenizer();
  const rng = new Rng("tokenizer-roundtrip");
  for (let trial = 0; trial < 200; trial++) {
    const length = rng.int(0, 80);
    let s = "";
    for (let i = 0; i < length; i++) s += rng.next() < 0.05 ? "\n" : String.fromCharCode(rng.int(32, 126));
    assert.equal(tok.decode(tok.encode(s)), s);
  }
});

test("tokenizer: other characters become one '?' each, surrogate pairs included", () => {
  const tok = new Tokenizer();
  const q = tok.encode("?")[0];
  assert.equal(tok.replacement, "?");
  assert.equal(tok.replacementId, q);
  assert.deepEqual(tok.encode("a\tb"), [tok.encode("a")[0], q, tok.encode("b")[0]]);
  assert.deepEqual(tok.encode("\r\n"), [q, 101]);
  assert.equal(tok.decode(tok.encode("café → 😀!")), "caf? ? ?!");
});

test("tokenizer: special names in text stay characters; special ids decode to names", () => {
  const tok = new Tokenizer();
  const ids = tok.encode("<end>");
  assert.equal(ids.length, 5);
  assert.ok(!ids.some((id) => tok.isSpecial(id)));
  assert.equal(tok.decode([tok.task, ...tok.encode("x"), tok.answer, tok.end, tok.pad]), "<task>x<answer><end><pad>");
  assert.equal(SPECIAL_TOKENS.map((_, id) => tok.decode([id])).join(","), "<pad>,<task>,<attempt>,<feedback>,<answer>,<end>");
});

test("tokenizer: decode rejects ids outside the vocabulary, naming the position", () => {
  const tok = new Tokenizer();
  assert.throws(() => tok.decode([7, 102]), /token id 102 at position 1 is out of range: ids are integers in \[0, 102\)/);
  assert.throws(() => tok.decode([-1]), /token id -1 at position 0/);
  assert.throws(() => tok.decode([1.5]), /token id 1.5/);
});

test("tokenizer: toJSON / fromJSON round trip, through JSON text", () => {
  const tok = new Tokenizer();
  const back = Tokenizer.fromJSON(JSON.parse(JSON.stringify(tok.toJSON())), "tokenizer.json");
  assert.equal(back.vocabSize, tok.vocabSize);
  assert.deepEqual(back.toJSON(), tok.toJSON());
  const text = "f([1,2],3) = 9\n<x>";
  assert.deepEqual(back.encode(text), tok.encode(text));
  // A custom vocabulary (tab added, '~' as replacement) survives too.
  const custom = new Tokenizer(["a", "b", "\t", "~"], "~");
  const customBack = Tokenizer.fromJSON(JSON.parse(JSON.stringify(custom.toJSON())), "custom.json");
  assert.equal(customBack.vocabSize, 10);
  assert.deepEqual(customBack.encode("a\tbz"), [6, 8, 7, 9]);
});

test("tokenizer: fromJSON names the bad field and what it expected", () => {
  const good = new Tokenizer().toJSON() as unknown as Record<string, unknown>;
  const bad = (patch: Record<string, unknown>) => ({ ...good, ...patch });
  const where = "ckpt/tokenizer.json";
  assert.throws(() => Tokenizer.fromJSON(null, where), /ckpt\/tokenizer.json: a tokenizer must be a JSON object \(got null\)/);
  assert.throws(() => Tokenizer.fromJSON(bad({ type: "bpe" }), where), /ckpt\/tokenizer.json: field "type" must be "char" or "pieces" \(got "bpe"\)/);
  assert.throws(() => Tokenizer.fromJSON(bad({ version: 2 }), where), /field "version" must be 1 \(got 2\)/);
  assert.throws(
    () => Tokenizer.fromJSON(bad({ specials: ["<pad>", "<task>"] }), where),
    /field "specials" must be \["<pad>","<task>","<attempt>","<feedback>","<answer>","<end>"\]/,
  );
  assert.throws(() => Tokenizer.fromJSON(bad({ chars: "abc" }), where), /field "chars" must be a non-empty array/);
  assert.throws(() => Tokenizer.fromJSON(bad({ chars: ["a", 7] }), where), /field "chars\[1\]" must be a string \(got 7\)/);
  assert.throws(() => Tokenizer.fromJSON(bad({ chars: ["a", "bc"] }), where), /ckpt\/tokenizer.json: tokenizer chars\[1\] must be exactly one character/);
  assert.throws(() => Tokenizer.fromJSON(bad({ chars: ["a", "b", "a"] }), where), /chars\[2\] "a" appears twice/);
  assert.throws(() => Tokenizer.fromJSON(bad({ replacement: "\u00e9" }), where), /replacement must be one of its characters/);
  assert.throws(() => Tokenizer.fromJSON(bad({ replacement: 1 }), where), /field "replacement" must be a one-character string/);
});

test("tokenizer pieces: chunks cover the text; pieces are one token, other chunks are spelled out", () => {
  const text = "Keep the elements, then f([1,-2],3) = [...xs]\n  (xs)=>xs.map(v=>v*2)";
  assert.equal(chunks(text).join(""), text);
  assert.deepEqual(chunks("(xs)=>xs.map(v=>v*-2) then"), ["(", "xs", ")=>", "xs", ".", "map", "(", "v", "=>", "v", "*-", "2", ")", " then"]);
  const tok = new Tokenizer(undefined, undefined, [")=>", "xs", " then"]);
  assert.equal(tok.vocabSize, 102 + 3);
  const ids = tok.encode("(xs)=>xs.a then");
  // "(" "xs" ")=>" "xs" "." "a" " then": 7 tokens, the pieces are ids 102..104 in the given order.
  assert.deepEqual(ids, [6 + (40 - 32), 103, 102, 103, 6 + (46 - 32), 6 + (97 - 32), 104]);
  assert.equal(tok.decode(ids), "(xs)=>xs.a then");
  // A chunk that merely contains a piece is spelled out: "xsy" is one chunk, not "xs" + "y".
  assert.equal(tok.encode("xsy").length, 3);
});

test("tokenizer pieces: train picks the most frequent chunks (ties by text), round trips random text", () => {
  const tok = Tokenizer.train(["aa bb aa", "aa cc bb", " cc x"], { maxPieces: 3, minCount: 2 });
  // Chunks of 2+ characters: "aa" 2, " bb" 2, " cc" 2, " aa" 1, " x" 1; minCount 2 keeps three, ordered by text on ties.
  assert.deepEqual(tok.pieces, [" bb", " cc", "aa"]);
  const rng = new Rng("pieces-roundtrip");
  const alphabet = "ab c)=>x.\n[-1,2]";
  for (let trial = 0; trial < 200; trial++) {
    let s = "";
    for (let i = rng.int(0, 40); i > 0; i--) s += alphabet[rng.int(0, alphabet.length - 1)];
    assert.equal(tok.decode(tok.encode(s)), s);
  }
  const json = tok.toJSON();
  assert.equal(json.type, "pieces");
  const back = Tokenizer.fromJSON(JSON.parse(JSON.stringify(json)), "tok.json");
  assert.deepEqual(back.encode("aa bb cc"), tok.encode("aa bb cc"));
  assert.equal(new Tokenizer().toJSON().type, "char");
});

test("tokenizer pieces: bad pieces and bad JSON fail naming the field", () => {
  assert.throws(() => new Tokenizer(undefined, undefined, ["a"]), /pieces\[0\] must be one chunk of at least two characters/);
  assert.throws(() => new Tokenizer(undefined, undefined, ["a b"]), /pieces\[0\] must be one chunk/);
  assert.throws(() => new Tokenizer(undefined, undefined, ["ab", "ab"]), /pieces\[1\] "ab" appears twice/);
  const json = { ...new Tokenizer().toJSON(), type: "pieces", pieces: "ab" };
  assert.throws(() => Tokenizer.fromJSON(json, "ckpt/tokenizer.json"), /ckpt\/tokenizer.json: field "pieces" must be an array of strings/);
  const charWithPieces = { ...new Tokenizer().toJSON(), pieces: ["ab"] };
  assert.throws(() => Tokenizer.fromJSON(charWithPieces, "t.json"), /t.json: field "pieces" is only allowed when "type" is "pieces"/);
});
