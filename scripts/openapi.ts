/** `npm run openapi`: writes openapi.json from core/api/openapi.ts. */
import { writeFile } from 'node:fs/promises';
import { buildOpenApiDocument } from '../core/api/openapi';

await writeFile('openapi.json', `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log('wrote openapi.json');
