// Where the real-data corpus is: $WAFERSCOPE_CORPUS, else ../shared/corpus beside the repository.
// The one locator for the Node tests, benches and tools (the Rust side has crates/corpus).
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** The corpus directory. */
export const corpus = process.env.WAFERSCOPE_CORPUS ?? join(root, '../shared/corpus');
