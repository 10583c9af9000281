/**
 * Progress of long command-line work (rule dry runs, benches) for a person watching: a bar on
 * stderr when it is a terminal, nothing otherwise, so that piped output and CI logs stay clean.
 */
import cliProgress from 'cli-progress'

export interface TerminalProgress {
  /** `done` of `total` (a total of undefined: a count with no end known). */
  update(done: number, total?: number): void
  stop(): void
}

export function terminalProgress(
  label: string,
  unit: string,
  stream: NodeJS.WriteStream = process.stderr,
): TerminalProgress {
  if (!stream.isTTY) return { update: () => undefined, stop: () => undefined }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: ` ${label} {bar} {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted}`,
      hideCursor: true,
      fps: 5,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  let last = 0
  return {
    update(done, total) {
      if (total === undefined) {
        // No end known: a counter on one line, at most five times a second.
        const now = performance.now()
        if (now - last < 200) return
        last = now
        stream.write(`\r ${label}: ${done} ${unit}`)
        started = true
        return
      }
      if (!started) {
        bar.start(total, done)
        started = true
      } else bar.update(done)
    },
    stop() {
      if (!started) return
      if (bar.isActive) bar.stop()
      else stream.write('\r\x1b[2K')
    },
  }
}
