/**
 * A bare aedes broker on TCP, with nothing behind it: the baseline of `npm run bench`. It prints its
 * port as one JSON line on stdout, and stops on SIGTERM. The same aedes version as the service's.
 */
import { createServer } from 'node:net'
import { Aedes } from 'aedes'
import { benchFlags } from './flags.ts'

benchFlags(
  `bench/bare-broker.ts: a bare aedes broker on a free TCP port of 127.0.0.1, the baseline of npm run bench
(which starts it). Prints {"mqttPort": N} and runs until SIGTERM.

  --version   the version of printwarden
  --help      this text
`,
  {},
)

const broker = await Aedes.createBroker()
const server = createServer(broker.handle)
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address && typeof address === 'object') console.log(JSON.stringify({ mqttPort: address.port }))
})
process.once('SIGTERM', () => {
  server.close()
  broker.close(() => process.exit(0))
})
