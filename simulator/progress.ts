/**
 * Progress on stderr: a bar on a terminal (cli-progress), a plain line every few seconds otherwise
 * (CI logs, files), nothing when quiet.
 */
import cliProgress from 'cli-progress'

export interface ProgressState {
  tick: number
  ticks: number
  simNow: number
  readings: number
  readingsPerSecond: number
  actions: number
}

export interface Progress {
  update(s: ProgressState): void
  stop(): void
}

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none'

const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ')

export function createProgress(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): Progress {
  const kind = mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode
  if (kind === 'none') return { update: () => undefined, stop: () => undefined }
  if (kind === 'bar') {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          ' {bar} {percentage}% | {sim} | {readings} readings | {rate}/s | {actions} actions | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    )
    let started = false
    return {
      update(s) {
        const payload = {
          sim: day(s.simNow),
          readings: s.readings,
          rate: Math.round(s.readingsPerSecond),
          actions: s.actions,
        }
        if (!started) {
          bar.start(s.ticks, s.tick, payload)
          started = true
        } else bar.update(s.tick, payload)
      },
      stop() {
        if (started) bar.stop()
      },
    }
  }
  let last = 0
  return {
    update(s) {
      const now = performance.now()
      if (now - last < 5000 && s.tick < s.ticks) return
      last = now
      const pct = s.ticks === 0 ? 100 : Math.floor((100 * s.tick) / s.ticks)
      stream.write(
        `simulate: ${pct}% ${day(s.simNow)} readings=${s.readings} rate=${Math.round(s.readingsPerSecond)}/s actions=${s.actions}\n`,
      )
    },
    stop() {},
  }
}
