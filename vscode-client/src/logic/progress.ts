// A server progress token's state as the notification shows it.

export type ProgressValue =
  | { kind: "begin"; title: string; message?: string; cancellable?: boolean }
  | { kind: "report"; message?: string; cancellable?: boolean }
  | { kind: "end"; message?: string };

export class ProgressState {
  title = "tierwise";
  /** The first message: "budget · anthropic:claude-haiku-4-5" or "from cache". */
  head = "";
  /** The latest report: "~42 tokens · est. $0.0008". */
  latest = "";
  ended = false;
  cancellable = false;

  apply(value: ProgressValue): void {
    if (value.kind === "begin") {
      this.title = value.title;
      this.head = value.message ?? "";
      this.cancellable = value.cancellable ?? false;
    } else if (value.kind === "report") {
      this.latest = value.message ?? this.latest;
    } else {
      this.ended = true;
      this.latest = value.message ?? this.latest;
    }
  }

  /** What the notification says under its title: the tier and model, then the latest report. */
  get message(): string {
    if (!this.latest || this.latest === this.head) {
      return this.head;
    }
    return this.head ? `${this.head} — ${this.latest}` : this.latest;
  }
}
