/**
 * Property tests: random seeds on a developer's machine (they find new cases), a fixed one under CI
 * (a submission's result does not depend on the draw); FC_SEED=… replays a reported failure.
 */
import fc from 'fast-check'

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : process.env.CI ? 20261122 : undefined
if (seed !== undefined) fc.configureGlobal({ seed })
