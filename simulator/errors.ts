/**
 * The simulator's coded errors, for what a user can get wrong: a flag, a scenario or a model file.
 * The message says what to fix; the CLI prints `code: message` and exits 1.
 */
export const SimulatorErrorCodes = {
  PW_ERR_SIM_FLAG: 'a command-line flag is not valid',
  PW_ERR_SIM_SCENARIO: 'a scenario file could not be loaded',
  PW_ERR_SIM_MODEL: 'a printer model file could not be loaded',
  PW_ERR_SIM_BROKER: 'the MQTT broker could not be reached',
  PW_ERR_SIM_API: 'the service API could not be reached',
  PW_ERR_SIM_SERVICE: 'the service could not be started in process (--in-process)',
} as const

export type SimulatorErrorCode = keyof typeof SimulatorErrorCodes

export class SimulatorError extends Error {
  constructor(
    readonly code: SimulatorErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'SimulatorError'
  }
}
