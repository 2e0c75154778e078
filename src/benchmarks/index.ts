/** The paper's Python benchmarks as kit problems: loaders, evaluation (reward, verdict, feedback). */
export * from "./types";
export { loadBenchmark, isBenchmarkName, type BenchLoadOptions } from "./load";
export { loadHumanEval, HUMANEVAL_FILE, WRONG_EXAMPLES } from "./humaneval";
export { loadMbpp, MBPP_FILE, MBPP_SANITIZED_FILE, MBPP_SPLITS, MBPP_BROKEN_REFERENCES } from "./mbpp";
export { loadLiveCodeBench, LCB_CONTEXT } from "./livecodebench";
export { loadKodCode } from "./kodcode";
export { evaluateBenchProgram, benchProgram, type BenchEvaluation, type BenchEvaluateOptions } from "./evaluate";
export { benchFeedback, BENCH_FEEDBACK_DEFAULTS, type BenchFeedbackOptions } from "./bench-feedback";
export { referenceSource, kitReferenceSource, kitPolicySource, kitTaskView, conversationSource } from "./attempt-sources";
