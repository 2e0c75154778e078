/**
 * A code task of the kit's suite. The model writes one JavaScript arrow function whose parameter
 * list is fixed by the task (`signature`, e.g. "(xs, k)"); the program is run on every test.
 */

/** Values that tasks take and return: integers, strings, booleans and arrays of them. */
export type Value = number | string | boolean | Value[];

/** One test: the arguments of a call and the value it must return. */
export interface TestCase {
  input: Value[];
  expected: Value;
}

export type Difficulty = 1 | 2 | 3;

export type Split = "train" | "validation" | "test";

export interface Task {
  /** Unique within the suite, e.g. "test-00042". */
  id: string;
  /** The generating family, e.g. "map_filter"; composed tasks join families with "+". */
  family: string;
  difficulty: Difficulty;
  /** A short templated English description of what the function computes. */
  description: string;
  /** The fixed parameter list, with parentheses: "(xs, k)". */
  signature: string;
  /** 2-3 examples shown to the model; also the only tests feedback is built from. */
  visible: TestCase[];
  /** At least 6 further tests, never shown to the model; they count in the reward. */
  hidden: TestCase[];
  /** A correct program: a single arrow function with the task's signature. */
  reference: string;
  /**
   * What the prompt shows of each visible test. Absent: the call and its expected value
   * (`f([1,2]) = 3`). "inputs": the call only (`f([1,2])`), for tasks whose expected values would
   * give away a part of the specification the description withholds (the feedback suite,
   * src/taskgen/feedback/); their expected values reach the model only through feedback.
   */
  promptShows?: "inputs";
  /**
   * Feedback-suite tasks only: the part of the specification the description leaves out, named
   * with its value ("hidden number = 4"). Never shown to the model.
   */
  withheld?: string;
  /**
   * Feedback-suite tasks only: every program a model could write from the description alone,
   * one per possible value of the withheld part (the reference among them). Never shown to the
   * model; tests use them to prove that only feedback can tell which one is right.
   */
  behaviours?: string[];
}
