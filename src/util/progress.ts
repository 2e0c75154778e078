/**
 * Progress lines for long work: "pretrain  120/2000  6.0%  3.1 step/s  ETA 10m05s  loss 1.234".
 * Written to stderr so stdout stays machine-readable (the CLI's last stdout line is JSON), at most
 * once every `everyMs` and always for the last item.
 */

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

export class Progress {
  private readonly start = Date.now();
  private lastPrint = 0;
  private readonly startDone: number;

  constructor(
    private readonly label: string,
    readonly total: number,
    private readonly options: { unit?: string; everyMs?: number; write?: (line: string) => void; startAt?: number } = {},
  ) {
    this.startDone = options.startAt ?? 0;
  }

  /** Report that `done` items of `total` are finished; `extra` is appended (e.g. "loss 1.23"). */
  update(done: number, extra = ""): void {
    const now = Date.now();
    const last = done >= this.total;
    if (!last && now - this.lastPrint < (this.options.everyMs ?? 2000)) return;
    this.lastPrint = now;
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? (done - this.startDone) / elapsed : 0;
    const eta = rate > 0 ? (this.total - done) / rate : NaN;
    const pct = this.total > 0 ? ((100 * done) / this.total).toFixed(1) : "100.0";
    const unit = this.options.unit ?? "it";
    const line = `${this.label}  ${done}/${this.total}  ${pct}%  ${rate.toFixed(rate < 10 ? 2 : 0)} ${unit}/s  elapsed ${formatDuration(elapsed)}  ETA ${last ? "0s" : formatDuration(eta)}${extra ? "  " + extra : ""}`;
    (this.options.write ?? ((l: string) => process.stderr.write(l + "\n")))(line);
  }
}
