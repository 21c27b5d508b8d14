// The shipped model's facts, read from its manifest (public/model/manifest.json) rather than
// retyped: the class list and its order are the model's, and a new model may change them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './corpus.mjs';

/** The shipped manifest. */
export const manifest = JSON.parse(readFileSync(join(root, 'public/model/manifest.json'), 'utf8'));

/** The classes in the model's output order. */
export const classes = manifest.classes;
