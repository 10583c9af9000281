import type { Reading } from '../domain/reading.ts'
import type { ReadingRange } from './store.ts'

/**
 * Where the API reads a device's readings from: the embedded SQLite store, or InfluxDB. Both take
 * the same readings (after ingest dropped duplicates), each at its own time.
 */
export interface TimeSeries {
  readings(deviceId: string, range: ReadingRange): Promise<Reading[]>
}
