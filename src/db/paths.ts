import { fileURLToPath } from 'node:url';

/** The migrations folder, found from this file so the app runs from any working directory. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));
