/**
 * What a subject is about, as data: a device, or a whole site. A site's action has no device: it
 * belongs to the site, is listed under it and is published on the site's own actions topic. Its
 * subject also says whether its actions end when its episode does (a gateway back online), or only
 * otherwise (a stock count answers its request).
 */
import { SUBJECT_KINDS, SUBJECTS } from './registry.ts'

export type Scope = 'device' | 'site'

export interface SubjectScope {
  scope: Scope
  /** Its unresolved actions are resolved once their episode is no longer current. */
  endsWithEpisode: boolean
}

/** Every subject kind's scope: the rule subjects' from their declarations, and people's calls. */
export const SUBJECT_SCOPES: Readonly<Record<string, SubjectScope>> = {
  ...Object.fromEntries(
    SUBJECT_KINDS.map((k) => [k, { scope: SUBJECTS[k].scope, endsWithEpisode: SUBJECTS[k].endsWithEpisode }]),
  ),
  /** A person's service call (`request:<id>`): it ends when a person resolves or cancels it. */
  request: { scope: 'device', endsWithEpisode: false },
}

const DEVICE: SubjectScope = { scope: 'device', endsWithEpisode: true }

/** The declaration of a subject key's kind (`toner:black` → toner). */
export function scopeOf(subjectKey: string): SubjectScope {
  const colon = subjectKey.indexOf(':')
  const kind = colon < 0 ? subjectKey : subjectKey.slice(0, colon)
  return SUBJECT_SCOPES[kind] ?? DEVICE
}
