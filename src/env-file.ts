import { existsSync } from 'node:fs';

/**
 * Reads `.env` from the working directory into `process.env` when there is one, for every entry
 * point (`npm start`, `db:migrate`, `import`, `eval`). Settings already in the environment win, as
 * with `node --env-file`.
 */
export function loadEnvFile(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
