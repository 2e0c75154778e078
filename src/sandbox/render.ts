/**
 * The canonical renderer: turns any JavaScript value into text. A test passes iff the rendering
 * of the returned value equals the rendering of the expected value.
 *
 * The renderer is kept as SOURCE TEXT (`RENDER_SOURCE`) because the same logic has to run in two
 * realms: on the host (expected values) and inside the sandbox isolate (returned values). Sharing
 * the text, not a transpiled function, guarantees the two sides agree (tsx would inject helpers
 * such as `__name` into `fn.toString()`). The factory takes the intrinsics it uses as arguments,
 * captured by the caller before any untrusted code ran, and never looks anything up on the values
 * it renders except through those intrinsics.
 *
 * Canonical form (JSON-like, documented edge cases):
 * - numbers: `String(n)` (shortest round-trip); `-0` renders as `0` (they are `===`, and JSON
 *   files cannot store -0, so a stored expected 0 must accept a computed -0); `NaN`, `Infinity`,
 *   `-Infinity` as such (so they differ from `null`).
 * - strings: JSON-quoted (`"a\"b"`); booleans, `null`, `undefined` as keywords.
 * - BigInt: `5n`. Symbol: `Symbol(desc)`. Functions: `<function name>` (or `<function>`).
 * - arrays: `[1,2,[3]]`; holes `<empty>`; elements that are getters `<getter>` (never called; a
 *   setter-only element reads as undefined); extra non-index properties (e.g. `index` on a
 *   RegExp match) are ignored, as in JSON.
 * - other objects: `{"k":v}` over own enumerable string keys in property order; objects whose
 *   `Object.prototype.toString` tag is not `Object` get the tag as a prefix: `Map {}`,
 *   `Promise {}`, `Date {}`, `Int8Array {"0":1}`. Accessor properties render as `<getter>` and are
 *   not invoked. Symbol keys and non-enumerable keys are ignored.
 * - a value that contains itself renders the inner occurrence as `<cycle>`.
 * - Proxies cannot be told apart from their targets from inside JavaScript: rendering one runs
 *   its traps (in the sandbox that is hostile code, bounded by the program's time limit; a trap
 *   that throws makes the test a runtime error).
 * - Size: when the rendering would exceed `maxChars`, rendering stops and the result is what was
 *   rendered so far (at most `maxChars` characters) followed by `…`. Nesting deeper than 1000
 *   levels is cut the same way (it bounds the renderer's own recursion). A complete rendering
 *   never ends with `…` (it ends with a quote, bracket, brace, `>`, `)`, digit or letter), so
 *   `isTruncated` is exact; the sandbox reports a cut return value as `output_limit`.
 */

/** Rendering stops at this nesting depth and counts as too large. */
export const MAX_RENDER_DEPTH = 1000;

/** Appended to a rendering that was cut at `maxChars`. */
export const TRUNCATION_MARK = "\u2026";

/**
 * The intrinsics the renderer needs. Both realms pass their own, captured before any untrusted
 * code runs: `uncurry(f)` turns a method into a function taking `this` first.
 */
export const RENDER_SOURCE = String.raw`
(function makeRenderValue(I) {
  "use strict";
  const getOwnPropertyDescriptor = I.getOwnPropertyDescriptor;
  const ownKeys = I.ownKeys;
  const isArray = I.isArray;
  const hasOwn = I.hasOwn;
  const lookupGetter = I.uncurry(I.lookupGetter);
  const jsonQuote = I.jsonStringify;
  const toText = I.String;
  const objectTag = I.uncurry(I.objectToString);
  const slice = I.uncurry(I.stringSlice);
  const MAX_DEPTH = ${MAX_RENDER_DEPTH};
  const MARK = "${TRUNCATION_MARK}";

  // State of the rendering in progress. renderValue saves and restores it, because rendering
  // can run code (a Proxy trap) that itself renders (console.log).
  let out = "";
  let full = false; // set once the rendering reached maxChars; everything after is dropped
  let maxChars = 0;
  let ancestors = []; // objects being rendered, for cycle detection

  function emit(text) {
    if (full) return;
    if (out.length + text.length > maxChars) {
      out += slice(text, 0, maxChars - out.length);
      full = true;
    } else {
      out += text;
    }
  }

  function isAncestor(v) {
    for (let i = 0; i < ancestors.length; i++) if (ancestors[i] === v) return true;
    return false;
  }

  // Array elements: holes and accessors are shown, never invoked.
  function renderArray(v, depth) {
    const length = v.length;
    const n = typeof length === "number" ? length : 0;
    emit("[");
    for (let i = 0; i < n && !full; i++) {
      if (i > 0) emit(",");
      if (!hasOwn(v, i)) emit("<empty>");
      else if (lookupGetter(v, i) !== undefined) emit("<getter>");
      else render(v[i], depth + 1);
    }
    emit("]");
  }

  function renderObject(v, depth) {
    const tag = slice(objectTag(v), 8, -1);
    if (tag !== "Object") emit(tag + " ");
    emit("{");
    const keys = ownKeys(v);
    let first = true;
    for (let i = 0; i < keys.length && !full; i++) {
      const key = keys[i];
      if (typeof key !== "string") continue;
      const descriptor = getOwnPropertyDescriptor(v, key);
      if (descriptor === undefined || !descriptor.enumerable) continue;
      if (!first) emit(",");
      first = false;
      emit(jsonQuote(key) + ":");
      if ("value" in descriptor) render(descriptor.value, depth + 1);
      else emit("<getter>");
    }
    emit("}");
  }

  function render(v, depth) {
    if (full) return;
    switch (typeof v) {
      case "number":
        // v !== v is NaN; v === 0 covers -0, which renders as 0.
        emit(v !== v ? "NaN" : v === 0 ? "0" : toText(v));
        return;
      case "string":
        // Quote at most maxChars + 1 characters: anything longer is cut anyway.
        emit(jsonQuote(v.length > maxChars ? slice(v, 0, maxChars + 1) : v));
        return;
      case "boolean":
        emit(v ? "true" : "false");
        return;
      case "undefined":
        emit("undefined");
        return;
      case "bigint":
        emit(toText(v) + "n");
        return;
      case "symbol":
        emit(toText(v));
        return;
      case "function": {
        const name = getOwnPropertyDescriptor(v, "name");
        const text = name !== undefined && typeof name.value === "string" ? name.value : "";
        emit(text === "" ? "<function>" : "<function " + text + ">");
        return;
      }
      default:
        break;
    }
    if (v === null) {
      emit("null");
      return;
    }
    if (depth >= MAX_DEPTH) {
      full = true;
      return;
    }
    if (isAncestor(v)) {
      emit("<cycle>");
      return;
    }
    ancestors[ancestors.length] = v;
    if (isArray(v)) renderArray(v, depth);
    else renderObject(v, depth);
    ancestors.length = ancestors.length - 1;
  }

  return function renderValue(value, limit) {
    const saved = [out, full, maxChars, ancestors];
    out = "";
    full = false;
    maxChars = limit;
    ancestors = [];
    try {
      render(value, 0);
      return full ? out + MARK : out;
    } finally {
      out = saved[0];
      full = saved[1];
      maxChars = saved[2];
      ancestors = saved[3];
    }
  };
})
`;

/** The intrinsics object `RENDER_SOURCE`'s factory expects. */
export interface RenderIntrinsics {
  getOwnPropertyDescriptor: typeof Object.getOwnPropertyDescriptor;
  ownKeys: typeof Reflect.ownKeys;
  isArray: typeof Array.isArray;
  hasOwn: (object: object, key: PropertyKey) => boolean;
  lookupGetter: (key: PropertyKey) => (() => unknown) | undefined;
  jsonStringify: (value: string) => string;
  String: typeof String;
  objectToString: () => string;
  stringSlice: (start?: number, end?: number) => string;
  uncurry: (method: Function) => (self: unknown, ...args: unknown[]) => any;
}

/** Renders any value canonically (see the module comment); `maxChars` caps the length. */
export type RenderValue = (value: unknown, maxChars: number) => string;

/** Builds the host's renderer from the shared source and this realm's intrinsics. */
function makeHostRenderer(): RenderValue {
  const call = Function.prototype.call;
  const intrinsics: RenderIntrinsics = {
    getOwnPropertyDescriptor: Object.getOwnPropertyDescriptor,
    ownKeys: Reflect.ownKeys,
    isArray: Array.isArray,
    hasOwn: Object.hasOwn,
    // Finds an accessor's getter without calling it.
    lookupGetter: (Object.prototype as unknown as { __lookupGetter__: RenderIntrinsics["lookupGetter"] })
      .__lookupGetter__,
    jsonStringify: JSON.stringify,
    String,
    objectToString: Object.prototype.toString,
    stringSlice: String.prototype.slice,
    uncurry: (method) => call.bind(method) as (self: unknown, ...args: unknown[]) => any,
  };
  // The source is this module's own constant, never input: evaluating it here is what keeps the
  // host and the isolate on the very same renderer.
  const factory = new Function(`return (${RENDER_SOURCE});`)() as (i: RenderIntrinsics) => RenderValue;
  return factory(intrinsics);
}

/**
 * Canonical text of a value, capped: a value whose rendering is longer than `maxChars` characters
 * (or nested deeper than MAX_RENDER_DEPTH) comes back cut, ending with `…` (see `isTruncated`).
 * @param value any JavaScript value
 * @param maxChars the longest rendering kept (a non-negative integer)
 */
export const renderValue: RenderValue = (() => {
  const render = makeHostRenderer();
  return (value: unknown, maxChars: number): string => {
    if (!Number.isInteger(maxChars) || maxChars < 0) {
      throw new RangeError(`renderValue: maxChars must be a non-negative integer (got ${maxChars})`);
    }
    return render(value, maxChars);
  };
})();

/** True when a rendering was cut because the value was too large or too deeply nested. */
export function isTruncated(rendering: string): boolean {
  return rendering.endsWith(TRUNCATION_MARK);
}
