// Writes docs/errors.md from the error catalogue: `npm run docs:errors`.
import { writeFileSync } from 'node:fs';
import { errorCatalogueMarkdown } from '../../domain/errors/markdown.js';

writeFileSync(new URL('../../docs/errors.md', import.meta.url), errorCatalogueMarkdown());
console.log('docs/errors.md written');
