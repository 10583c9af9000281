/** The builder of each device subject's instances, by kind: one file each, beside its declaration. */

import { billingInstances } from './billing.ts'
import type { DeviceInstances } from './device-subject.ts'
import { errorInstances } from './error.ts'
import { recurrenceInstances } from './recurrence.ts'
import type { SubjectKind } from './registry.ts'
import { silenceInstances } from './silence.ts'
import { tonerInstances } from './toner.ts'
import { wasteBoxInstances } from './waste-box.ts'

export const DEVICE_INSTANCES: Partial<Record<SubjectKind, DeviceInstances>> = {
  toner: tonerInstances,
  wasteBox: wasteBoxInstances,
  error: errorInstances,
  recurrence: recurrenceInstances,
  billing: billingInstances,
  silence: silenceInstances,
}
