// Stored responses (`store`, the default): what GET /responses/{id}, input_items, cancel and
// previous_response_id read. In process (bounded) without storage; a Blob container with it.

import type { Json } from '../../validate';

export interface StoredResponse {
  /** The response as it is once complete (status completed or incomplete). */
  response: Json;
  /** Every item before this response's output: earlier turns (previous_response_id) and this input. */
  conversation: Json[];
  /** Epoch ms the answer is complete: a background response is queued, then in progress, until then. */
  completesAt: number;
  /** Epoch ms a background response was cancelled (before it completed). */
  cancelledAt?: number;
}

export interface ResponseStore {
  /** For messages, e.g. `blob container responses`. */
  readonly name: string;
  put(id: string, stored: StoredResponse): Promise<void>;
  get(id: string): Promise<StoredResponse | undefined>;
  /** False when there was nothing to delete. */
  delete(id: string): Promise<boolean>;
}

const MAX_IN_MEMORY = 10_000;

/**
 * In process: the oldest are forgotten past MAX_IN_MEMORY (a Map keeps insertion order). Records
 * are kept as given and handed out as shallow copies: a caller's change is stored only by put.
 */
export function memoryResponseStore(limit = MAX_IN_MEMORY): ResponseStore {
  const byId = new Map<string, StoredResponse>();
  return {
    name: 'memory',
    async put(id, stored) {
      byId.delete(id);
      byId.set(id, { ...stored });
      if (byId.size > limit) {
        // The oldest tenth at once: forgetting one per put would walk the map's freed slots each time.
        let forget = Math.ceil(limit / 10);
        for (const key of byId.keys()) {
          byId.delete(key);
          if (--forget <= 0) break;
        }
      }
    },
    async get(id) {
      const stored = byId.get(id);
      return stored && { ...stored };
    },
    async delete(id) {
      return byId.delete(id);
    },
  };
}
