import { fileURLToPath } from 'node:url';

/** The bundled model the app opens with, as a folder path (the CLI's default --model). */
export const BUNDLED_MODEL_DIR = fileURLToPath(new URL('../../public/models/fruit-animals/', import.meta.url));
