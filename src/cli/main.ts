/**
 * The `murphy` command line. Each subcommand lives in its own file and is loaded only when used,
 * so `murphy tasks` does not start TensorFlow.js. ("./x.js" names the TypeScript file x.ts: tsx maps it.) Usage errors exit with code 2, failures with 1.
 */
import { UsageError } from "./args";

type Command = { summary: string; load: () => Promise<{ main(argv: string[]): Promise<void> }> };

const COMMANDS: Record<string, Command> = {
  start: { summary: "the main job (npm start): the quick experiment, every notebook, build/report/index.html", load: () => import("./start.js") },
  tasks: { summary: "print tasks of a split: --split test --limit 3 [--json]; a benchmark's: --bench mbpp --limit 3", load: () => import("./tasks.js") },
  run: { summary: "run a program on a task or a tests file: --task <id> | --tests <file> --code '<js>' [--json]; on a benchmark: --bench humaneval --task HumanEval/0 --code-file f.py", load: () => import("./run.js") },
  pretrain: { summary: "train the base policy (resumable), evaluate it, write its model card", load: () => import("./pretrain.js") },
  eval: { summary: "Iter-k self-correction eval: --checkpoint <dir> | --policy openai --base-url URL --model NAME; --split test --turns 3 [--samples n] [--json]; benchmarks: --bench humaneval|mbpp|livecodebench|kodcode|kit --policy canonical|kit", load: () => import("./eval.js") },
  rollout: { summary: "MURPHY trees (credit, pruning, advantages) and trainable examples: --out DIR [--policy kit|openai --base-url URL --model NAME] [--config c]", load: () => import("./rollout.js") },
  rollouts: { summary: "sample rollout trees of a few tasks and save them as JSONL: --out <file> [--config c] [--split s] [--limit n] [--seed s]", load: () => import("./rollouts.js") },
  explorer: { summary: "build the pruning explorer page from recorded rollout trees: [batch.jsonl ...] [--out file.html]", load: () => import("./explorer.js") },
  train: { summary: "GRPO / MURPHY training: --config configs/murphy-mars.json [--set k=v] [--seed s] [--out dir] [--resume]", load: () => import("./train.js") },
  "generate-tasks": { summary: "regenerate the task suite: [--seed s] [--out data/tasks]", load: () => import("./generate-tasks.js") },
  "compute-match": { summary: "compute-matched GRPO group size from a MURPHY run: --metrics <run>/metrics.jsonl [--min-steps 10] [--json]", load: () => import("./compute-match.js") },
  experiment: { summary: "run an experiment's cells (methods x seeds): <name> [--jobs n] [--only cell|method] [--limit-seeds n] [--json]", load: () => import("./experiment.js") },
  serve: { summary: "the kit's model behind an OpenAI-compatible API: [--checkpoint dir] [--port 8000] [--host 127.0.0.1]", load: () => import("./serve.js") },
  report: { summary: "print an experiment's results and write build/report/<name>/index.html: <name> [--json]", load: () => import("./report.js") },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return `usage: murphy <command> [options]\n\ncommands:\n${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`murphy: unknown command "${name}"\n\n${usage()}`);
  await (await command.load()).main(rest);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError) {
    process.stderr.write(e.message + "\n");
    process.exit(2);
  }
  process.stderr.write(`murphy: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.env.MURPHY_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
