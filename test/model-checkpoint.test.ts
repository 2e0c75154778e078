import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadCheckpoint,
  readSafetensors,
  saveCheckpoint,
  writeSafetensors,
  type ExpectedTensor,
  type RawTensor,
} from "../src/model/checkpoint";
import { Tokenizer } from "../src/model/tokenizer";
import { tempDir } from "./helpers/temp";

before(async () => {
  await selectBackend();
});

const tempCheckpointDir = () => tempDir("murphy-ckpt-");

/** A safetensors file built byte by byte: 8-byte little-endian header length, header, data. */
function handMadeFile(headerText: string, dataHex: string): Uint8Array {
  const header = Buffer.from(headerText, "utf8");
  const length = Buffer.alloc(8);
  length.writeUInt32LE(header.length, 0); // high 4 bytes stay 0
  return new Uint8Array(Buffer.concat([length, header, Buffer.from(dataHex.replace(/ /g, ""), "hex")]));
}

const GOLDEN_HEADER =
  '{"__metadata__":{"format":"pt"},"b":{"dtype":"I32","shape":[1,1],"data_offsets":[8,12]},' +
  '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
// a = [1.5, -2.0] as little-endian float32 (0x3FC00000, 0xC0000000); b = [[-7]] as int32 (0xFFFFFFF9).
const GOLDEN_DATA = "0000c03f 000000c0 f9ffffff";

test("safetensors golden: parses a file whose bytes are built by hand", () => {
  const { tensors, metadata } = decodeSafetensors(handMadeFile(GOLDEN_HEADER, GOLDEN_DATA), "golden.safetensors");
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual([...tensors.keys()], ["a", "b"]); // in data order, not header order
  const a = tensors.get("a")!;
  assert.equal(a.dtype, "float32");
  assert.deepEqual(a.shape, [2]);
  assert.deepEqual(Array.from(a.data), [1.5, -2]);
  const b = tensors.get("b")!;
  assert.equal(b.dtype, "int32");
  assert.deepEqual(b.shape, [1, 1]);
  assert.deepEqual(Array.from(b.data), [-7]);
});

test("safetensors golden: encoding writes exactly the expected bytes, header padded to 8", () => {
  const tensors = new Map<string, RawTensor>([
    ["w", { dtype: "float32", shape: [1], data: new Float32Array([0.1]) }],
    ["n", { dtype: "int32", shape: [], data: new Int32Array([-7]) }],
  ]);
  const bytes = encodeSafetensors(tensors, { format: "pt" });
  const headerText =
    '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
    '"n":{"dtype":"I32","shape":[],"data_offsets":[4,8]}}';
  const padded = headerText + " ".repeat((8 - ((8 + headerText.length) % 8)) % 8);
  // 0.1 in float32 is 0x3DCCCCCD; -7 in int32 is 0xFFFFFFF9.
  const expected = handMadeFile(padded, "cdcccc3d f9ffffff");
  assert.deepEqual(Buffer.from(bytes).toString("hex"), Buffer.from(expected).toString("hex"));
  assert.equal((8 + padded.length) % 8, 0);
  const back = decodeSafetensors(bytes, "x");
  assert.deepEqual(Array.from(back.tensors.get("n")!.data), [-7]);
  assert.deepEqual(back.tensors.get("n")!.shape, []);
});

test("safetensors: each malformed file fails with a message naming the file and the problem", () => {
  const good = handMadeFile(GOLDEN_HEADER, GOLDEN_DATA);
  const where = "m.safetensors";
  const decode = (bytes: Uint8Array) => () => decodeSafetensors(bytes, where);
  assert.throws(decode(good.slice(0, 5)), /^Error: m.safetensors: file is truncated: 5 bytes, fewer than the 8-byte header length/);
  assert.throws(decode(good.slice(0, 30)), /m.safetensors: file is truncated: the header needs \d+ bytes but only 22 follow/);
  assert.throws(decode(good.slice(0, good.length - 4)), /m.safetensors: file is truncated: tensor "b" needs data bytes up to 12 but the file has only 8/);
  const corrupt = good.slice();
  corrupt[8] = "#".charCodeAt(0); // the header's opening brace
  assert.throws(decode(corrupt), /m.safetensors: bad header: not valid JSON/);
  const huge = good.slice();
  huge[7] = 0x10;
  assert.throws(decode(huge), /m.safetensors: bad header: header length \d+ is above the 100 MB limit/);
  assert.throws(
    decode(handMadeFile(GOLDEN_HEADER.replace('"shape":[2]', '"shape":[3]'), GOLDEN_DATA)),
    /bad header: tensor "a" has shape \[3\] F32 \(12 bytes\) but data_offsets \[0, 8\] span 8 bytes/,
  );
  assert.throws(
    decode(handMadeFile(GOLDEN_HEADER.replace('"dtype":"F32"', '"dtype":"F16"'), GOLDEN_DATA)),
    /tensor "a" has dtype F16; this kit reads F32 and I32/,
  );
  assert.throws(
    decode(handMadeFile(GOLDEN_HEADER.replace("[8,12]", "[12,16]"), GOLDEN_DATA + "00000000")),
    /tensor "b" at data_offsets \[12, 16\] leaves bytes 8..12 unused/,
  );
  assert.throws(
    decode(handMadeFile(GOLDEN_HEADER.replace("[8,12]", "[4,8]").replace('"shape":[1,1]', '"shape":[1]'), GOLDEN_DATA)),
    /overlaps the tensor before it/,
  );
  assert.throws(decode(handMadeFile(GOLDEN_HEADER, GOLDEN_DATA + "00")), /m.safetensors: bad file: 1 bytes after the last tensor's data/);
  assert.throws(decode(handMadeFile("[1,2]", "")), /bad header: must be a JSON object/);
  assert.throws(decode(handMadeFile('{"__metadata__":{"step":3}}', "")), /__metadata__.step must be a string/);
});

test("safetensors: encoding rejects data that does not match its shape", () => {
  const bad = new Map<string, RawTensor>([["w", { dtype: "float32", shape: [2, 2], data: new Float32Array(3) }]]);
  assert.throws(() => encodeSafetensors(bad), /tensor "w" has shape \[2,2\] \(4 elements\) but 3 values/);
});

test("safetensors: write and read tf tensors round trip, atomically, without leaking tensors", () => {
  const dir = tempCheckpointDir();
  const file = path.join(dir, "weights.safetensors");
  const a = tf.tensor2d([[1, 2.5, -3], [4, 5, 6e-8]]);
  const b = tf.tensor1d([7, -8, 2147483647], "int32");
  const before = tf.memory().numTensors;
  writeSafetensors(file, new Map<string, tf.Tensor>([["a", a], ["b", b]]), { note: "x" });
  assert.deepEqual(fs.readdirSync(dir), ["weights.safetensors"]); // no temporary file left
  const { tensors, metadata } = readSafetensors(file);
  assert.deepEqual(metadata, { note: "x" });
  assert.deepEqual(tensors.get("a")!.shape, [2, 3]);
  assert.deepEqual(Array.from(tensors.get("a")!.dataSync()), Array.from(a.dataSync()));
  assert.equal(tensors.get("b")!.dtype, "int32");
  assert.deepEqual(Array.from(tensors.get("b")!.dataSync()), [7, -8, 2147483647]);
  for (const t of tensors.values()) t.dispose();
  assert.equal(tf.memory().numTensors, before);
  const flag = tf.tensor1d([1], "bool");
  assert.throws(() => writeSafetensors(file, new Map([["flag", flag]])), /tensor "flag" has dtype bool; checkpoints store float32 \(F32\) and int32 \(I32\)/);
  tf.dispose([a, b, flag]);
  assert.throws(() => readSafetensors(path.join(dir, "missing.safetensors")), /missing.safetensors: file not found/);
  fs.rmSync(dir, { recursive: true });
});

function sampleContents(scale: number) {
  return {
    tensors: new Map<string, tf.Tensor>([
      ["wte", tf.fill([4, 3], scale)],
      ["h0.attn.w", tf.tensor2d([[scale, 2], [3, 4]])],
    ]),
    config: { vocabSize: 102, nLayer: 1, scale },
    tokenizer: new Tokenizer().toJSON(),
    extraTensors: { optimizer: new Map<string, tf.Tensor>([["step", tf.scalar(12, "int32")], ["m.wte", tf.zeros([4, 3])]]) },
    extraJson: { state: { step: 12, rng: [1, 2, 3, 4] }, history: [1, 2] },
  };
}

function disposeAll(maps: Map<string, tf.Tensor>[]): void {
  for (const m of maps) for (const t of m.values()) t.dispose();
}

const EXPECTED: ExpectedTensor[] = [
  { name: "wte", shape: [4, 3], dtype: "float32" },
  { name: "h0.attn.w", shape: [2, 2], dtype: "float32" },
];

test("checkpoint: save and load round trip all files; replacing an existing checkpoint is clean", () => {
  const root = tempCheckpointDir();
  const dir = path.join(root, "step-10");
  const before = tf.memory().numTensors;
  const first = sampleContents(1);
  saveCheckpoint(dir, first);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["config.json", "history.json", "model.safetensors", "optimizer.safetensors", "state.json", "tokenizer.json"]);

  const second = sampleContents(2);
  saveCheckpoint(dir, second); // replaces the first
  assert.deepEqual(fs.readdirSync(root), ["step-10"]); // no temporary or old folder left
  disposeAll([first.tensors, first.extraTensors.optimizer, second.tensors, second.extraTensors.optimizer]);
  assert.equal(tf.memory().numTensors, before);

  const loaded = loadCheckpoint(dir, { expected: EXPECTED });
  assert.deepEqual(loaded.config, { vocabSize: 102, nLayer: 1, scale: 2 });
  assert.equal(Tokenizer.fromJSON(loaded.tokenizer, path.join(dir, "tokenizer.json")).vocabSize, 102);
  assert.deepEqual([...loaded.tensors.keys()], ["wte", "h0.attn.w"]);
  assert.deepEqual(Array.from(loaded.tensors.get("h0.attn.w")!.dataSync()), [2, 2, 3, 4]);
  assert.deepEqual(Array.from(loaded.tensors.get("wte")!.dataSync()), Array(12).fill(2));
  assert.deepEqual(Object.keys(loaded.extraTensors), ["optimizer"]);
  assert.equal(loaded.extraTensors.optimizer.get("step")!.dtype, "int32");
  assert.deepEqual(loaded.extraTensors.optimizer.get("step")!.shape, []);
  assert.deepEqual(loaded.extraJson, { history: [1, 2], state: { step: 12, rng: [1, 2, 3, 4] } });
  disposeAll([loaded.tensors, ...Object.values(loaded.extraTensors)]);
  assert.equal(tf.memory().numTensors, before);
  fs.rmSync(root, { recursive: true });
});

test("checkpoint: a save that fails leaves the existing checkpoint untouched", () => {
  const root = tempCheckpointDir();
  const dir = path.join(root, "ckpt");
  const good = sampleContents(1);
  saveCheckpoint(dir, good);
  const bad = sampleContents(3);
  const flag = tf.tensor1d([1], "bool");
  bad.extraTensors.optimizer.set("flag", flag);
  assert.throws(() => saveCheckpoint(dir, bad), /optimizer.safetensors: tensor "flag" has dtype bool/);
  assert.throws(() => saveCheckpoint(dir, { ...good, extraJson: { config: {} } }), /checkpoint extraJson name "config" is not allowed/);
  assert.throws(() => saveCheckpoint(dir, { ...good, extraTensors: { "../x": new Map() } }), /extraTensors name "..\/x" is not allowed/);
  assert.deepEqual(fs.readdirSync(root), ["ckpt"]);
  const loaded = loadCheckpoint(dir);
  assert.equal(loaded.config.scale, 1);
  disposeAll([good.tensors, good.extraTensors.optimizer, bad.tensors, bad.extraTensors.optimizer, loaded.tensors, ...Object.values(loaded.extraTensors)]);
  fs.rmSync(root, { recursive: true });
});

test("checkpoint: load reports missing/extra tensors, shape and dtype mismatches by file and name", () => {
  const root = tempCheckpointDir();
  const dir = path.join(root, "ckpt");
  const contents = sampleContents(1);
  saveCheckpoint(dir, contents);
  disposeAll([contents.tensors, contents.extraTensors.optimizer]);
  const before = tf.memory().numTensors;
  const model = path.join(dir, "model.safetensors");
  const wrong: ExpectedTensor[] = [
    { name: "wte", shape: [4, 5], dtype: "float32" },
    { name: "h0.attn.w", shape: [2, 2], dtype: "int32" },
    { name: "h0.mlp.w", shape: [2], dtype: "float32" },
  ];
  assert.throws(() => loadCheckpoint(dir, { expected: wrong }), (e: Error) => {
    assert.equal(
      e.message,
      [
        `${model}: tensor "wte" has shape [4,3], expected [4,5]`,
        `${model}: tensor "h0.attn.w" has dtype float32, expected int32`,
        `${model}: missing tensor "h0.mlp.w" (expected shape [2] float32)`,
      ].join("\n"),
    );
    return true;
  });
  assert.throws(() => loadCheckpoint(dir, { expected: EXPECTED.slice(0, 1) }), /model.safetensors: unexpected tensor "h0.attn.w" \(shape \[2,2\] float32\)/);
  assert.equal(tf.memory().numTensors, before); // nothing allocated by failed loads
  fs.rmSync(root, { recursive: true });
});

test("checkpoint: truncated or corrupted files and missing parts fail clearly", () => {
  const root = tempCheckpointDir();
  const dir = path.join(root, "ckpt");
  const contents = sampleContents(1);
  saveCheckpoint(dir, contents);
  disposeAll([contents.tensors, contents.extraTensors.optimizer]);
  const model = path.join(dir, "model.safetensors");
  const original = fs.readFileSync(model);

  fs.writeFileSync(model, original.subarray(0, original.length - 10));
  assert.throws(() => loadCheckpoint(dir), new RegExp(`${model}: file is truncated: tensor "h0.attn.w" needs data bytes up to 64`));
  const corrupt = Buffer.from(original);
  corrupt[9] = 0x7b; // '{' inside the JSON header
  fs.writeFileSync(model, corrupt);
  assert.throws(() => loadCheckpoint(dir), new RegExp(`${model}: bad header: not valid JSON`));
  // Change a shape in the header (same byte length): data size no longer matches.
  fs.writeFileSync(model, Buffer.from(original.toString("latin1").replace('"shape":[4,3]', '"shape":[3,3]'), "latin1"));
  assert.throws(() => loadCheckpoint(dir), /tensor "wte" has shape \[3,3\] F32 \(36 bytes\) but data_offsets \[0, 48\] span 48 bytes/);
  fs.writeFileSync(model, original);

  const optimizer = path.join(dir, "optimizer.safetensors");
  fs.writeFileSync(optimizer, fs.readFileSync(optimizer).subarray(0, 4));
  assert.throws(() => loadCheckpoint(dir), new RegExp(`${optimizer}: file is truncated: 4 bytes`));
  fs.rmSync(optimizer);
  fs.writeFileSync(path.join(dir, "config.json"), "{not json");
  assert.throws(() => loadCheckpoint(dir), /config.json: not valid JSON/);
  fs.rmSync(path.join(dir, "tokenizer.json"));
  assert.throws(() => loadCheckpoint(dir), /ckpt: missing tokenizer.json \(a checkpoint folder holds model.safetensors, config.json and tokenizer.json\)/);
  fs.rmSync(root, { recursive: true });
});

test("checkpoint: a missing folder names the leftovers of an interrupted save", () => {
  const root = tempCheckpointDir();
  assert.throws(() => loadCheckpoint(path.join(root, "nope")), /nope: checkpoint folder not found$/);
  fs.mkdirSync(path.join(root, ".ckpt.saving-1-2"));
  assert.throws(() => loadCheckpoint(path.join(root, "ckpt")), /ckpt: checkpoint folder not found; an interrupted save left .*\.ckpt\.saving-1-2/);
  fs.rmSync(root, { recursive: true });
});
