// Azurite's Table service as its own process on a given port (AZURITE_PORT), so the outage tests
// can stop it (SIGSTOP), kill it (SIGKILL) and start it again empty on the same address.

import { startAzuriteTables } from './azurite';

void startAzuriteTables(Number(process.env.AZURITE_PORT ?? 0)).then((azurite) => {
  const endpoint = /TableEndpoint=(http:\/\/[^/;]+)/.exec(azurite.connectionString)?.[1];
  console.log(`azurite tables listening on ${endpoint}`);
});
