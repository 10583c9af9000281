/**
 * Runs a task one at a time: a request while it runs makes it run once more afterwards (requests in
 * between fold into that one). For followers that drain a log (an outbox, a journal) whenever they
 * are told something was added.
 */
export class Rerun {
  private running: Promise<void> | null = null
  private again = false

  constructor(
    private readonly task: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
    /** Checked at each request: false while stopped, or while a retry is already scheduled. */
    private readonly allowed: () => boolean = () => true,
  ) {}

  request(): void {
    if (!this.allowed()) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.task()
      .catch(this.onError)
      .finally(() => {
        this.running = null
        if (this.again) {
          this.again = false
          this.request()
        }
      })
  }

  /** Resolves when the run under way, if any, is over. */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve()
  }
}
