import { type FSWatcher, watch } from 'node:fs'
import type { Logger } from 'pino'

/** How long the folder must be quiet before a reload: an editor's save is several writes. */
export const SETTLE_MS = 100

/**
 * Calls `reload` whenever something in a folder changes on disk, once the folder has been quiet for
 * a moment, one reload at a time. For the rule files and the notification files, which both keep
 * their last good version of a file that breaks.
 */
export class FolderWatch {
  private watcher: FSWatcher | null = null
  private timer: NodeJS.Timeout | null = null
  private reloading: Promise<void> = Promise.resolve()

  constructor(
    private readonly dir: string,
    private readonly reload: () => Promise<void>,
    private readonly log: Logger,
    private readonly what: string,
    private readonly recursive = false,
  ) {}

  start(): void {
    this.watcher = watch(this.dir, { recursive: this.recursive }, () => this.schedule())
    this.watcher.on('error', (err) =>
      this.log.error({ err }, `cannot watch the ${this.what}; edits need a restart`),
    )
  }

  /** Resolves once the reload that is due (if any) is done: for tests. */
  settled(): Promise<void> {
    return this.reloading
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = null
      this.reloading = this.reloading.then(() =>
        this.reload().catch((err: unknown) => this.log.error({ err }, `could not reload the ${this.what}`)),
      )
    }, SETTLE_MS)
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.watcher?.close()
  }
}
