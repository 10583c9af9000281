/**
 * The subjects rules speak about, as data: one declaration each. What it is about (a device or a
 * whole site), whether its actions end with its episode, what wakes it (a device's reading, or a
 * deadline that falls due at a sweep instant), and the facts its rules may name. The rule-file
 * schema, the scopes of the ledger, the processor's and the sweeps' lists of subjects and the
 * subject table of rules/README.md are read from here.
 */
import type { FactName } from './fact-schemas.ts'

export interface SubjectDeclaration {
  scope: 'device' | 'site'
  /** Its unresolved actions are resolved once their episode is no longer current. */
  endsWithEpisode: boolean
  /** `reading`: decided at each reading of the device; `deadline`: when the clock crosses something. */
  wakes: 'reading' | 'deadline'
  /** The facts its rules may name. */
  facts: readonly FactName[]
  /** For rules/README.md: what one instance is, what one episode is, and when it ends. */
  runFor: string
  episode: string
  endsWhen: string
  /** What the dry run says of a device's rule of this subject that never ran. */
  neverEvaluated: string
}

export const SUBJECTS = {
  toner: {
    scope: 'device',
    endsWithEpisode: true,
    wakes: 'reading',
    facts: ['device', 'toner'],
    runFor: 'each colour a device reports',
    episode: 'one cartridge',
    endsWhen:
      "a rise of that colour's level by 30 points or more (a new cartridge); smaller rises, such as a shaken cartridge, are the same one",
    neverEvaluated: 'never evaluated: the device reported no toner level',
  },
  wasteBox: {
    scope: 'device',
    endsWithEpisode: true,
    wakes: 'reading',
    facts: ['device', 'wasteBox'],
    runFor: 'the waste toner box',
    episode: 'one box',
    endsWhen:
      'after the box needed replacing (`nearFull`, `full` or 90% and over), a report of `ok` or a fill under 50%',
    neverEvaluated: 'never evaluated: the device reported no waste box',
  },
  error: {
    scope: 'device',
    endsWithEpisode: true,
    wakes: 'reading',
    facts: ['device', 'error'],
    runFor: 'each active error code',
    episode: 'one stretch of that code being active',
    endsWhen: 'a reading whose `errors` no longer has it (a reading without `errors` changes nothing)',
    neverEvaluated: 'never evaluated: no error was active in any reading of the device',
  },
  recurrence: {
    scope: 'device',
    endsWithEpisode: true,
    wakes: 'reading',
    facts: ['device', 'recurrence'],
    runFor: 'each error code that became active in the last 7 days',
    episode:
      'one run of recurrences: it starts when the code becomes active with no earlier start in the 7 days before, and goes on while it comes back within 7 days',
    endsWhen: '7 days pass without the code becoming active again',
    neverEvaluated: 'never evaluated: no error became active in any reading of the device',
  },
  silence: {
    scope: 'device',
    endsWithEpisode: true,
    wakes: 'deadline',
    facts: ['device'],
    runFor: 'each device',
    episode: 'the time since its last reading',
    endsWhen: 'a newer reading arrives',
    neverEvaluated:
      'never evaluated: no sweep ran while the device was known (event time did not pass a sweep instant)',
  },
  billing: {
    scope: 'device',
    endsWithEpisode: true,
    wakes: 'deadline',
    facts: ['device', 'billing'],
    runFor:
      "each device that owes a meter reading: no page counters with a time in the last billing period (a calendar month in the site's zone; UTC for a site without a calendar) or after it",
    episode: 'that period',
    endsWhen:
      'counters arrive (telemetry, or `POST /devices/{deviceId}/meter-readings`), or the next period ends',
    neverEvaluated: 'never evaluated: the device owed no meter reading at any sweep',
  },
  stock: {
    scope: 'site',
    endsWithEpisode: false,
    wakes: 'deadline',
    facts: ['site', 'stock'],
    runFor:
      "each site of the inventory with devices heard from, while it owes a count of its spare toner: none with a time in the current half-year (January–June, July–December, in the site's zone, from its first working time on its calendar; UTC for a site without a calendar). A site first heard from in a half-year owes nothing for it",
    episode: 'that half-year',
    endsWhen:
      'never by itself: a count through `POST /sites/{siteId}/stock-counts` dated in that half-year or later resolves it',
    neverEvaluated:
      'never evaluated: no sweep found a site of the inventory that owed a count of its spare stock (rules test takes the inventory with --data-dir)',
  },
  gateway: {
    scope: 'site',
    endsWithEpisode: true,
    wakes: 'deadline',
    facts: ['site', 'gateway'],
    runFor:
      'each gateway of a site (known from `fleet/v1/{siteId}/gateways/{gatewayId}/status`) while it is `offline`',
    episode:
      "one outage: from the time of its `offline` state (a will carries none: the time it was received, in event time the newest reading's)",
    endsWhen: 'the gateway is `online` again',
    neverEvaluated: 'never evaluated: no gateway of the site was offline at a sweep',
  },
} as const satisfies Record<string, SubjectDeclaration>

export type SubjectKind = keyof typeof SUBJECTS

export const SUBJECT_KINDS = Object.keys(SUBJECTS) as SubjectKind[]

/** The kinds of one scope that one thing wakes. */
export function subjectsWoken(
  scope: SubjectDeclaration['scope'],
  by: SubjectDeclaration['wakes'],
): SubjectKind[] {
  return SUBJECT_KINDS.filter((k) => SUBJECTS[k].scope === scope && SUBJECTS[k].wakes === by)
}
