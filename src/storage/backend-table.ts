// The workshop proxy's backends Table, which organisers edit with Storage Explorer: one row per
// backend in a partition (the proxy's `openai-chat`), RowKey a friendly name, `DeploymentName`,
// `EndpointKey` (none: Entra ID), `ResourceName` (https://<name>.openai.azure.com) or our
// `EndpointUrl`, `Location`, `Active`. Our optional `SimulatorDeployment` names the deployment
// clients ask for (default: DeploymentName).

import type { BackendRow, BackendRowSource } from '../modes/forward/table-backends';
import { statusOf, tableClient, type StorageTarget } from './connect';

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
// Hand-entered rows often hold booleans as strings.
const isActive = (v: unknown) => v === true || (typeof v === 'string' && v.trim().toLowerCase() === 'true');

export function tableBackendSource(target: StorageTarget, tableName: string, partition: string): BackendRowSource {
  const client = tableClient(target, tableName);
  return {
    name: `table:${tableName}/${partition}`,
    async rows(): Promise<BackendRow[]> {
      const rows: BackendRow[] = [];
      try {
        for await (const e of client.listEntities<Record<string, unknown>>({
          queryOptions: { filter: `PartitionKey eq '${partition.replace(/'/g, "''")}'` },
        })) {
          if (!isActive(e.Active)) continue;
          const resource = text(e.ResourceName);
          const url = text(e.EndpointUrl) || (resource ? `https://${resource}.openai.azure.com` : '');
          const upstreamDeployment = text(e.DeploymentName);
          if (!url || !upstreamDeployment) continue; // a row that cannot be used is skipped, as the proxy skips inactive ones
          rows.push({
            name: text(e.rowKey) || text(e.RowKey),
            url,
            key: text(e.EndpointKey) || undefined,
            upstreamDeployment,
            deployment: text(e.SimulatorDeployment) || upstreamDeployment,
            location: text(e.Location) || undefined,
          });
        }
      } catch (err) {
        if (statusOf(err) === 404) return []; // no table yet: no rows
        throw err;
      }
      return rows;
    },
  };
}
