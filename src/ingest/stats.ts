import { type RejectReason, RejectReasons } from '../errors.ts'

/** Counters of what ingest did, for `GET /stats` and the logs. */
export class IngestStats {
  messages = 0
  readingsStored = 0
  duplicates = 0
  births = 0
  /** Valid messages not acknowledged because the spool for InfluxDB was full. */
  refused = 0
  readonly rejected: Record<RejectReason, number> = Object.fromEntries(
    RejectReasons.map((r) => [r, 0]),
  ) as Record<RejectReason, number>

  toJSON() {
    return {
      messages: this.messages,
      readingsStored: this.readingsStored,
      duplicates: this.duplicates,
      births: this.births,
      refused: this.refused,
      rejected: { ...this.rejected },
      rejectedTotal: Object.values(this.rejected).reduce((a, b) => a + b, 0),
    }
  }
}
