/** The waste toner box: one episode per box, at each reading. */
import { subjectKey } from '../domain/device-state.ts'
import type { DeviceEpisodes, DeviceInstances } from './device-subject.ts'

export const wasteBoxEpisodes: DeviceEpisodes = (state) =>
  state.wasteBox ? [[subjectKey('wasteBox'), state.wasteBox.box]] : []

export const wasteBoxInstances: DeviceInstances = ({ state, device }) => {
  const w = state.wasteBox
  if (!w) return []
  const fill = typeof w.report === 'number' ? w.report : null
  const wasteState = typeof w.report === 'string' ? w.report : null
  return [
    {
      kind: 'wasteBox',
      key: subjectKey('wasteBox'),
      episode: w.box,
      facts: { device, wasteBox: { state: wasteState, fill, needsReplacing: w.needsReplacing } },
      details: fill === null ? { state: wasteState } : { fill },
    },
  ]
}
