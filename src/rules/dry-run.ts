/**
 * A dry run of the rule files: readings from a file, or from the service's stored history, go
 * through the real pipeline (contract validation, a real SqliteStore, the real Processor in event
 * time) into a throw-away store, and the report says which actions the rules would create, and for
 * a rule that never fired for a device, which condition failed and with what fact value.
 *
 * Nothing here writes to the service's data: the store is a temporary directory, and stored history
 * is read through a read-only connection.
 */

import { type FileHandle, open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { isValidId } from '../contract/topics.ts'
import { type ParseSettings, parseMessage } from '../ingest/parse.ts'
import { ReadOnlyHistory } from '../store/sqlite/history.ts'
import { DB_FILE } from '../store/sqlite/sqlite-store.ts'
import { explainNotFired, isNode } from './dry-run/explain.ts'
import { inventoryOf, Replay } from './dry-run/replay.ts'
import {
  DryRunInputError,
  type DryRunReport,
  type DryRunSettings,
  type InputSummary,
  type RejectedLine,
} from './dry-run/report.ts'
import { loadRuleDir, type RuleSet } from './loader.ts'

async function loadRules(dir: string): Promise<RuleSet> {
  try {
    return await loadRuleDir(dir)
  } catch (err) {
    throw new DryRunInputError(`cannot read the rule files in ${dir}: ${(err as Error).message}`)
  }
}

async function report(
  command: DryRunReport['command'],
  rules: RuleSet,
  replay: Replay,
  input: Omit<InputSummary, 'readings' | 'births' | 'stored' | 'duplicates' | 'lateReadings'>,
): Promise<DryRunReport> {
  const actions = await replay.actions()
  const countsByType: Record<string, number> = {}
  for (const a of actions) countsByType[a.type] = (countsByType[a.type] ?? 0) + 1
  return {
    command,
    rules: {
      loaded: rules.rules.map((r) => ({
        name: r.name,
        file: r.file,
        subject: r.subject,
        type: r.event.type,
      })),
      failures: rules.failures.map((f) => ({ file: f.file, reason: f.reason })),
      runtimeErrors: replay.evaluator.runtimeErrors(),
    },
    input: {
      ...input,
      readings: replay.counts.readings,
      births: replay.counts.births,
      stored: replay.counts.stored,
      duplicates: replay.counts.duplicates,
      lateReadings: await replay.lateReadings(),
    },
    actions,
    countsByType,
    notFired: await explainNotFired(rules.rules, await replay.devices(), actions, replay.evaluator),
  }
}

/**
 * One line of a readings file as an MQTT message: `{ "topic", "payload" }` (the simulator's
 * `--out`; a string payload is the message text as sent), or a bare reading that names its
 * `siteId` and `deviceId`.
 */
export function lineToMessage(
  topicRoot: string,
  json: unknown,
): { topic: string; payload: Buffer } | { reason: 'invalid-line'; detail: string } {
  const expected = 'expected {"topic", "payload"}, or a reading with "siteId" and "deviceId"'
  if (!isNode(json)) return { reason: 'invalid-line', detail: `${expected}; this line is not an object` }
  const line = json as Record<string, unknown>
  if ('topic' in line || 'payload' in line) {
    if (typeof line.topic !== 'string' || !('payload' in line))
      return { reason: 'invalid-line', detail: `${expected}; this line has one of topic and payload only` }
    const text = typeof line.payload === 'string' ? line.payload : JSON.stringify(line.payload)
    return { topic: line.topic, payload: Buffer.from(text ?? '', 'utf8') }
  }
  const { siteId, deviceId, ...reading } = line
  for (const [name, id] of [
    ['siteId', siteId],
    ['deviceId', deviceId],
  ] as const) {
    if (id === undefined) return { reason: 'invalid-line', detail: `${expected}; "${name}" is missing` }
    if (typeof id !== 'string' || !isValidId(id))
      return {
        reason: 'invalid-line',
        detail: `${name} ${JSON.stringify(id)} is not an ID: 1 to 64 of letters, digits, ".", "_", "-"`,
      }
  }
  return {
    topic: `${topicRoot}/${siteId}/${deviceId}/telemetry`,
    payload: Buffer.from(JSON.stringify(reading), 'utf8'),
  }
}

async function openReadable(file: string) {
  try {
    const s = await stat(file)
    if (!s.isFile()) throw new Error('not a file')
    return await open(file, 'r')
  } catch (err) {
    throw new DryRunInputError(`cannot read the readings file ${file}: ${(err as Error).message}`)
  }
}

/** `rules test`: the readings of a JSON lines file. */
export async function testReadings(
  settings: DryRunSettings & {
    readingsFile: string
    /** After the last line, let event time run on to this instant, and run the silence rules there. */
    until?: number
    /** A data directory whose site and device inventory describes the devices (read only). */
    inventoryDir?: string
  },
): Promise<DryRunReport> {
  const handle = await openReadable(settings.readingsFile)
  try {
    const rules = await loadRules(settings.rulesDir)
    const replay = await Replay.start(
      rules.rules,
      settings.sweepIntervalMs,
      await inventoryOf(settings.inventoryDir),
      settings.supportCalendar,
    )
    try {
      const { lines, rejected } = await replayLines(handle, settings, replay)
      await replay.finish(settings.until)
      return await report('test', rules, replay, { source: settings.readingsFile, lines, rejected })
    } finally {
      await replay.close()
    }
  } finally {
    await handle.close().catch(() => {})
  }
}

/** Each line through the same validation as MQTT ingest, and on into the replay. */
async function replayLines(
  handle: FileHandle,
  settings: DryRunSettings & { readingsFile: string },
  replay: Replay,
): Promise<{ lines: number; rejected: RejectedLine[] }> {
  // A dry run replays the past: no reading is "ahead of the clock".
  const parse: ParseSettings = {
    topicRoot: settings.topicRoot,
    maxPayloadBytes: settings.maxPayloadBytes,
    maxFutureSkewMs: Number.POSITIVE_INFINITY,
  }
  const rejected: RejectedLine[] = []
  let lines = 0
  let bytes = 0
  const size = settings.onProgress ? (await handle.stat()).size : 0
  const input = createInterface({
    input: handle.createReadStream({ encoding: 'utf8', autoClose: false }),
    crlfDelay: Number.POSITIVE_INFINITY,
  })
  try {
    for await (const text of input) {
      lines++
      bytes += Buffer.byteLength(text) + 1
      settings.onProgress?.(Math.min(bytes, size), size)
      if (text.trim() === '') continue
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch (err) {
        rejected.push({ line: lines, reason: 'not-json', detail: (err as Error).message })
        continue
      }
      const message = lineToMessage(settings.topicRoot, json)
      if ('reason' in message) {
        rejected.push({ line: lines, ...message })
        continue
      }
      const parsed = parseMessage(parse, message.topic, message.payload, replay.clock.now())
      if (parsed.kind === 'rejected')
        rejected.push({ line: lines, reason: parsed.reason, detail: parsed.detail })
      else if (parsed.kind === 'birth')
        await replay.add([], [{ siteId: parsed.siteId, deviceId: parsed.deviceId, birth: parsed.birth }])
      else if (parsed.kind === 'gateway')
        await replay.add([], [], undefined, [
          { siteId: parsed.siteId, gatewayId: parsed.gatewayId, status: parsed.status },
        ])
      else await replay.add(parsed.readings, [])
    }
  } catch (err) {
    // The file opened, and then could not be read (an I/O error): the operator's to fix.
    if ((err as NodeJS.ErrnoException).syscall !== undefined)
      throw new DryRunInputError(
        `cannot read the readings file ${settings.readingsFile}: ${(err as Error).message}`,
      )
    throw err
  }
  return { lines, rejected }
}

/** `rules backtest`: the readings the service stored between two instants. */
export async function backtest(
  settings: DryRunSettings & { dataDir: string; from: number; to: number },
): Promise<DryRunReport> {
  const { from, to } = settings
  let history: ReadOnlyHistory
  try {
    history = new ReadOnlyHistory(settings.dataDir)
  } catch (err) {
    throw new DryRunInputError((err as Error).message)
  }
  try {
    const rules = await loadRules(settings.rulesDir)
    const inventory = await inventoryOf(settings.dataDir)
    const replay = await Replay.start(
      rules.rules,
      settings.sweepIntervalMs,
      inventory,
      settings.supportCalendar,
    )
    try {
      await replay.add([], history.births())
      let replayed = 0
      for (const page of history.receipts(from, to)) {
        for (const { reading, receivedAt } of page) await replay.add([reading], [], receivedAt)
        replayed += page.length
        settings.onProgress?.(replayed)
      }
      // Silence rules look at the window up to its end.
      await replay.finish(to)
      const withoutBody = history.withoutBody(from, to)
      return await report('backtest', rules, replay, {
        source: `${join(settings.dataDir, DB_FILE)} from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`,
        rejected: [],
        withoutBody,
      })
    } finally {
      await replay.close()
    }
  } finally {
    history.close()
  }
}
