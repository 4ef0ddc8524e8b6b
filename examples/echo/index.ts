// The smallest extension: POST /echo (simulator key required) answers "Echo: <body>".
// Run: npm run build && EXTENSION_PATH=dist/examples/echo npm start

import type { ExtensionApi } from '../../src/extensions';

export function initialize(api: ExtensionApi): void {
  api.addRoute({
    methods: ['POST'],
    path: '/echo',
    handler: async (request) => {
      if (!api.helpers.isAuthorized(request)) return api.helpers.errorResponse(api.helpers.errors.unauthorized());
      return api.helpers.textResponse(200, `Echo: ${await request.text()}`);
    },
  });
}
