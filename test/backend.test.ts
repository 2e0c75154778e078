import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { BACKEND_ORDER, describeBackend, selectBackend } from "../src/backend";

test("selectBackend picks the first backend that loads and says why faster ones were skipped", async () => {
  delete process.env.MURPHY_BACKEND;
  const choice = await selectBackend();
  const position = BACKEND_ORDER.indexOf(choice.name);
  assert.deepEqual(choice.skipped.map((s) => s.name), BACKEND_ORDER.slice(0, position));
  for (const s of choice.skipped) assert.ok(s.reason.length > 0, `a reason for skipping ${s.name}`);
  assert.equal(tf.getBackend(), choice.tfName);
  assert.match(describeBackend(choice), new RegExp(`^backend ${choice.name}`));
});

test("a backend can be forced by argument and by MURPHY_BACKEND", async () => {
  const cpu = await selectBackend("cpu");
  assert.equal(cpu.name, "cpu");
  assert.equal(cpu.forcedBy, "argument");
  assert.equal(tf.getBackend(), "cpu");
  process.env.MURPHY_BACKEND = "wasm";
  try {
    const wasm = await selectBackend();
    assert.equal(wasm.name, "wasm");
    assert.equal(wasm.forcedBy, "MURPHY_BACKEND");
    assert.equal(tf.getBackend(), "wasm");
  } finally {
    delete process.env.MURPHY_BACKEND;
  }
});

test("an unknown or unavailable forced backend is a clear error", async () => {
  await assert.rejects(selectBackend("gpu"), /backend argument must be one of node-gpu, node, wasm, cpu \(got "gpu"\)/);
  process.env.MURPHY_BACKEND = "tpu";
  try {
    await assert.rejects(selectBackend(), /MURPHY_BACKEND must be one of/);
  } finally {
    delete process.env.MURPHY_BACKEND;
  }
  let nativeInstalled = true;
  try {
    require.resolve("@tensorflow/tfjs-node");
  } catch {
    nativeInstalled = false;
  }
  if (!nativeInstalled) await assert.rejects(selectBackend("node"), /backend "node" was requested but cannot be used/);
});
