/**
 * Operations on integer arrays: element-wise maps, conditional maps and clamps, filters, counts,
 * reductions, slices, reordering and checks. Every array operation returns a new array: the input
 * is never modified (reverse and sort work on a spread copy).
 */
import { type Expr, PREC, expr, method, operand, variable } from "./expr";
import { type ArgSpec, type Op, defineOp, range } from "./ops";
import {
  ARITH_SCALARS,
  BOUND_SCALARS,
  CONDITIONAL_BODIES,
  CONDITIONAL_WEIGHT,
  type Scalar,
  splitArgs,
} from "./ops-numbers";
import { ALL_PREDICATES, EQUAL, type Predicate, SELECTING_PREDICATES } from "./predicates";

/** The lambda variable for elements. */
const V = variable("v");

/** Lengths for slices; 1 is left out so "the first 2 elements" is always plural. */
const SLICE_LENGTHS: ArgSpec = { type: "int", values: range(2, 4), param: true };

function mapOp(s: Scalar): Op {
  return defineOp<number[], number[]>({
    name: `map_${s.name}`,
    family: s.family === "arith" ? "map" : "condition",
    from: "ints",
    to: "ints",
    args: s.args,
    group: `map_${s.group}`,
    say: (a) => s.say(a, "each element"),
    code: (e, a) => method(e, `map(v=>${s.code(V, a).code})`),
    run: (xs, a) => xs.map((v) => s.run(v, a)),
  });
}

/** "add 3 to each even element": xs.map(v=>v%2==0?v+3:v). */
function conditionalMapOp(pred: Predicate, body: Scalar): Op {
  return defineOp<number[], number[]>({
    name: `map_if_${pred.name}_${body.name}`,
    family: "condition",
    from: "ints",
    to: "ints",
    args: [...pred.args, ...body.args],
    group: "map_if",
    weight: CONDITIONAL_WEIGHT,
    say: (a) => {
      const [p, b] = splitArgs(pred, a);
      return body.say(b, pred.each(p));
    },
    code: (e, a) => {
      const [p, b] = splitArgs(pred, a);
      return method(e, `map(v=>${pred.code(V, p).code}?${body.code(V, b).code}:v)`);
    },
    run: (xs, a) => {
      const [p, b] = splitArgs(pred, a);
      return xs.map((v) => (pred.test(v, p) ? body.run(v, b) : v));
    },
  });
}

function filterOp(pred: Predicate): Op {
  return defineOp<number[], number[]>({
    name: `keep_${pred.name}`,
    family: "filter",
    from: "ints",
    to: "ints",
    args: pred.args,
    say: (a) => `keep the ${pred.plural(a)}`,
    code: (e, a) => method(e, `filter(v=>${pred.code(V, a).code})`),
    run: (xs, a) => xs.filter((v) => pred.test(v, a)),
  });
}

function countOp(pred: Predicate): Op {
  return defineOp<number[], number>({
    name: `count_${pred.name}`,
    family: "count",
    from: "ints",
    to: "int",
    args: pred.args,
    group: "count",
    say: (a) => `count the ${pred.plural(a)}`,
    code: (e, a) => method(e, `filter(v=>${pred.code(V, a).code}).length`),
    run: (xs, a) => xs.filter((v) => pred.test(v, a)).length,
  });
}

function quantifierOp(which: "every" | "some", pred: Predicate): Op {
  return defineOp<number[], boolean>({
    name: `${which}_${pred.name}`,
    family: "check",
    from: "ints",
    to: "bool",
    args: pred.args,
    group: "check",
    say: (a) => `check if ${which} element is ${pred.is(a)}`,
    code: (e, a) => method(e, `${which}(v=>${pred.code(V, a).code})`),
    run: (xs, a) => (which === "every" ? xs.every((v) => pred.test(v, a)) : xs.some((v) => pred.test(v, a))),
  });
}

function spread(e: Expr): string {
  return `[...${e.code}]`;
}

const ARRAY_OPS_BY_HAND: readonly Op[] = [
  defineOp<number[], number[]>({
    name: "map_index",
    family: "map",
    from: "ints",
    to: "ints",
    say: () => "add its index to each element",
    code: (e) => method(e, "map((v,i)=>v+i)"),
    run: (xs) => xs.map((v, i) => v + i),
  }),
  defineOp<number[], number[]>({
    name: "remove_equal",
    family: "filter",
    from: "ints",
    to: "ints",
    args: EQUAL.args,
    say: ([c]) => `remove the elements equal to ${c}`,
    code: (e, [c]) => method(e, `filter(v=>v!=${c})`),
    run: (xs, [c]) => xs.filter((v) => v !== c),
  }),
  defineOp<number[], number[]>({
    name: "unique",
    family: "filter",
    from: "ints",
    to: "ints",
    say: () => "remove duplicates",
    // A Set keeps the first occurrence of each value, in order.
    code: (e) => expr(`[...new Set(${e.code})]`, PREC.primary),
    run: (xs) => [...new Set(xs)],
  }),
  defineOp<number[], number>({
    name: "count_all",
    family: "count",
    from: "ints",
    to: "int",
    group: "count",
    say: () => "count the elements",
    code: (e) => method(e, "length"),
    run: (xs) => xs.length,
  }),
  defineOp<number[], number>({
    name: "count_distinct",
    family: "count",
    from: "ints",
    to: "int",
    group: "count",
    say: () => "count the distinct elements",
    code: (e) => expr(`new Set(${e.code}).size`, PREC.primary),
    run: (xs) => new Set(xs).size,
  }),
  defineOp<number[], number>({
    name: "sum",
    family: "reduce",
    from: "ints",
    to: "int",
    say: () => "return the sum",
    code: (e) => method(e, "reduce((a,v)=>a+v,0)"),
    run: (xs) => xs.reduce((a, v) => a + v, 0),
  }),
  // The largest/smallest/first/last of an empty array is undefined: tests never ask for it
  // (generation keeps only inputs whose expected value is a JSON value).
  defineOp<number[], number>({
    name: "max",
    family: "reduce",
    from: "ints",
    to: "int",
    say: () => "return the largest element",
    code: (e) => expr(`Math.max(...${e.code})`, PREC.primary),
    run: (xs) => Math.max(...xs),
  }),
  defineOp<number[], number>({
    name: "min",
    family: "reduce",
    from: "ints",
    to: "int",
    say: () => "return the smallest element",
    code: (e) => expr(`Math.min(...${e.code})`, PREC.primary),
    run: (xs) => Math.min(...xs),
  }),
  defineOp<number[], number | undefined>({
    name: "first",
    family: "reduce",
    from: "ints",
    to: "int",
    say: () => "return the first element",
    code: (e) => expr(`${operand(e, PREC.primary)}[0]`, PREC.primary),
    run: (xs) => xs[0],
  }),
  defineOp<number[], number | undefined>({
    name: "last",
    family: "reduce",
    from: "ints",
    to: "int",
    say: () => "return the last element",
    code: (e) => method(e, "at(-1)"),
    run: (xs) => xs.at(-1),
  }),
  defineOp<number[], number[]>({
    name: "take",
    family: "slice",
    from: "ints",
    to: "ints",
    args: [SLICE_LENGTHS],
    say: ([n]) => `take the first ${n} elements`,
    code: (e, [n]) => method(e, `slice(0,${n})`),
    run: (xs, [n]) => xs.slice(0, n as number),
  }),
  defineOp<number[], number[]>({
    name: "drop",
    family: "slice",
    from: "ints",
    to: "ints",
    args: [SLICE_LENGTHS],
    say: ([n]) => `drop the first ${n} elements`,
    code: (e, [n]) => method(e, `slice(${n})`),
    run: (xs, [n]) => xs.slice(n as number),
  }),
  // No k for the last n: slice(-0) would return everything instead of nothing.
  defineOp<number[], number[]>({
    name: "take_last",
    family: "slice",
    from: "ints",
    to: "ints",
    args: [{ type: "int", values: range(2, 4) }],
    say: ([n]) => `take the last ${n} elements`,
    code: (e, [n]) => method(e, `slice(-${n})`),
    run: (xs, [n]) => xs.slice(-(n as number)),
  }),
  defineOp<number[], number[]>({
    name: "drop_last",
    family: "slice",
    from: "ints",
    to: "ints",
    args: [{ type: "int", values: range(2, 4) }],
    say: ([n]) => `drop the last ${n} elements`,
    code: (e, [n]) => method(e, `slice(0,-${n})`),
    run: (xs, [n]) => xs.slice(0, -(n as number)),
  }),
  defineOp<number[], number[]>({
    name: "even_indexes",
    family: "slice",
    from: "ints",
    to: "ints",
    say: () => "keep the elements at even indexes",
    code: (e) => method(e, "filter((v,i)=>i%2==0)"),
    run: (xs) => xs.filter((_v, i) => i % 2 === 0),
  }),
  defineOp<number[], number[]>({
    name: "reverse",
    family: "order",
    from: "ints",
    to: "ints",
    group: "order",
    say: () => "reverse the order",
    code: (e) => expr(`${spread(e)}.reverse()`, PREC.primary),
    run: (xs) => [...xs].reverse(),
  }),
  defineOp<number[], number[]>({
    name: "sort_up",
    family: "order",
    from: "ints",
    to: "ints",
    group: "order",
    say: () => "sort ascending",
    code: (e) => expr(`${spread(e)}.sort((a,b)=>a-b)`, PREC.primary),
    run: (xs) => [...xs].sort((a, b) => a - b),
  }),
  defineOp<number[], number[]>({
    name: "sort_down",
    family: "order",
    from: "ints",
    to: "ints",
    group: "order",
    say: () => "sort descending",
    code: (e) => expr(`${spread(e)}.sort((a,b)=>b-a)`, PREC.primary),
    run: (xs) => [...xs].sort((a, b) => b - a),
  }),
  defineOp<number[], boolean>({
    name: "contains",
    family: "check",
    from: "ints",
    to: "bool",
    args: EQUAL.args,
    group: "check",
    say: ([c]) => `check if it contains ${c}`,
    code: (e, [c]) => method(e, `includes(${c})`),
    run: (xs, [c]) => xs.includes(c as number),
  }),
  defineOp<number[], boolean>({
    name: "empty",
    family: "check",
    from: "ints",
    to: "bool",
    group: "check",
    say: () => "check if empty",
    code: (e) => expr(`${method(e, "length").code}==0`, PREC.equality),
    run: (xs) => xs.length === 0,
  }),
  defineOp<number[], boolean>({
    name: "longer",
    family: "check",
    from: "ints",
    to: "bool",
    args: [{ type: "int", values: range(1, 5), param: true }],
    group: "check",
    say: ([n]) => `check if longer than ${n}`,
    code: (e, [n]) => expr(`${method(e, "length").code}>${n}`, PREC.relational),
    run: (xs, [n]) => xs.length > (n as number),
  }),
];

export const ARRAY_OPS: readonly Op[] = [
  ...ARITH_SCALARS.map(mapOp),
  ...BOUND_SCALARS.map(mapOp),
  ...SELECTING_PREDICATES.flatMap((p) => CONDITIONAL_BODIES.map((b) => conditionalMapOp(p, b))),
  ...SELECTING_PREDICATES.map(filterOp),
  ...ALL_PREDICATES.map(countOp),
  ...SELECTING_PREDICATES.map((p) => quantifierOp("every", p)),
  ...SELECTING_PREDICATES.map((p) => quantifierOp("some", p)),
  ...ARRAY_OPS_BY_HAND,
];
