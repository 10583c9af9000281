import pkg from '../package.json' with { type: 'json' }

/** The package's version, for every command's --version and the API description. */
export const VERSION: string = pkg.version
