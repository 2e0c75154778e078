/**
 * The lock-down: JavaScript source text for a function the harness calls once, when a context is
 * created and before any program runs. It makes the realm immutable, so programs that share the
 * context cannot affect each other (the argument is in pool.ts):
 *
 * 1. removes the globals and engine statics that would let state or code outlive a call
 *    (`Atomics`, `SharedArrayBuffer`, `WebAssembly`, `FinalizationRegistry`, `WeakRef`, RegExp's
 *    legacy statics such as `RegExp.$1` and the writable `RegExp.input`);
 * 2. installs the harness's capped console;
 * 3. tames the "override mistake" on Object.prototype and the Error prototypes (see below);
 * 4. deep-freezes everything reachable from `globalThis` and from syntax-created intrinsics,
 *    following prototypes and every own property (data values, getters, setters);
 * 5. walks again and throws unless every reached object is frozen and the removals held.
 *
 * It captures its own intrinsics when it is evaluated, which is before any program ran.
 */
export const LOCKDOWN_SOURCE = String.raw`
(function lockDown(sandboxConsole) {
"use strict";
const realmGlobal = globalThis;
const ownKeys = Reflect.ownKeys;
const reflectDefineProperty = Reflect.defineProperty;
const reflectDeleteProperty = Reflect.deleteProperty;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const defineProperty = Object.defineProperty;
const getPrototypeOf = Object.getPrototypeOf;
const freeze = Object.freeze;
const isFrozen = Object.isFrozen;
const TypeErrorConstructor = TypeError;
const SetConstructor = Set;
const uncurry = (method) => Reflect.apply(Function.prototype.bind, Function.prototype.call, [method]);
const setHas = uncurry(Set.prototype.has);
const setAdd = uncurry(Set.prototype.add);

// (a) Objects the language creates from syntax, not reachable from globalThis by name.
function syntaxIntrinsics() {
  const segments = new Intl.Segmenter().segment("");
  return [
    getPrototypeOf(function* () {}),
    getPrototypeOf(async function () {}),
    getPrototypeOf(async function* () {}),
    getPrototypeOf([][Symbol.iterator]()),
    getPrototypeOf(""[Symbol.iterator]()),
    getPrototypeOf(new Map()[Symbol.iterator]()),
    getPrototypeOf(new Set()[Symbol.iterator]()),
    getPrototypeOf(/a/[Symbol.matchAll]("")),
    getPrototypeOf(segments),
    getPrototypeOf(segments[Symbol.iterator]()),
    (function () { return getOwnPropertyDescriptor(arguments, "callee").get; })(),
  ];
}

// (b) The override mistake: once Object.prototype is frozen, "obj.toString = f" or
// "counts['constructor'] = 1" would silently fail on an ordinary object, because the inherited
// property is read-only. Each writable data property of these prototypes becomes an accessor
// whose setter defines the property on the receiver instead, as assignment would have done. The
// getter and setter close over constants only (the original value, the key, the prototype).
function tameOverrideMistake(prototype) {
  const keys = ownKeys(prototype);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const descriptor = getOwnPropertyDescriptor(prototype, key);
    if (!("value" in descriptor) || !descriptor.writable || !descriptor.configurable) continue;
    const value = descriptor.value;
    const accessors = {
      get() { return value; },
      set(newValue) {
        const receiver = this;
        if (receiver === prototype) return;
        if ((typeof receiver !== "object" || receiver === null) && typeof receiver !== "function") return;
        reflectDefineProperty(receiver, key, {
          value: newValue, writable: true, enumerable: true, configurable: true,
        });
      },
    };
    defineProperty(prototype, key, {
      get: accessors.get, set: accessors.set, enumerable: descriptor.enumerable, configurable: false,
    });
  }
}

// (c) Everything reachable from the roots through prototypes and own properties (data values,
// getters, setters) is frozen. Afterwards the walk is repeated to prove nothing was missed.
function walk(roots, visit) {
  const seen = new SetConstructor();
  const stack = [];
  for (let i = 0; i < roots.length; i++) stack[stack.length] = roots[i];
  while (stack.length > 0) {
    const object = stack[stack.length - 1];
    stack.length -= 1;
    if (object === null || (typeof object !== "object" && typeof object !== "function")) continue;
    if (setHas(seen, object)) continue;
    setAdd(seen, object);
    stack[stack.length] = getPrototypeOf(object);
    const keys = ownKeys(object);
    for (let i = 0; i < keys.length; i++) {
      const descriptor = getOwnPropertyDescriptor(object, keys[i]);
      if ("value" in descriptor) {
        stack[stack.length] = descriptor.value;
      } else {
        stack[stack.length] = descriptor.get;
        stack[stack.length] = descriptor.set;
      }
    }
    visit(object);
  }
}

function lockDownRealm() {
  // Globals that let a program run code between programs or share memory (timers of
  // Atomics.waitAsync, finalizers, WebAssembly, SharedArrayBuffer), or whose state depends on
  // garbage collection (WeakRef): none is needed by the tasks.
  const removed = ["WebAssembly", "SharedArrayBuffer", "Atomics", "FinalizationRegistry", "WeakRef"];
  for (let i = 0; i < removed.length; i++) reflectDeleteProperty(realmGlobal, removed[i]);
  // RegExp's legacy static properties (RegExp.$1, RegExp.input, ...) hold the last match of the
  // whole realm, and RegExp.input is writable: a channel between programs. They are removed.
  const legacy = ["input", "$_", "lastMatch", "$&", "lastParen", "$+", "leftContext", "$\u0060",
    "rightContext", "$'", "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9"];
  for (let i = 0; i < legacy.length; i++) reflectDeleteProperty(RegExp, legacy[i]);
  // The engine's own console (which prints nowhere) is replaced by the harness's capped one.
  defineProperty(realmGlobal, "console", {
    value: sandboxConsole, writable: true, enumerable: false, configurable: true,
  });
  tameOverrideMistake(Object.prototype);
  const errors = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError,
    AggregateError];
  for (let i = 0; i < errors.length; i++) tameOverrideMistake(errors[i].prototype);

  const roots = syntaxIntrinsics();
  roots[roots.length] = realmGlobal;
  walk(roots, freeze);
  let unfrozen = 0;
  walk(roots, (object) => { if (!isFrozen(object)) unfrozen += 1; });
  const missing = [];
  for (let i = 0; i < removed.length; i++) if (removed[i] in realmGlobal) missing[missing.length] = removed[i];
  if (unfrozen !== 0 || missing.length !== 0 || "$1" in RegExp) {
    throw new TypeErrorConstructor("sandbox lock-down failed: " + unfrozen + " objects not frozen, "
      + "still present: [" + missing.join() + "], RegExp.$1 removed: " + !("$1" in RegExp));
  }
}

lockDownRealm();
})
`;
