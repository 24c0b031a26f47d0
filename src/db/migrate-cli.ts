import { loadConfig } from '../config.js';
import { openDatabase } from './client.js';
import { MIGRATIONS_FOLDER } from './paths.js';

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded database. */
const config = loadConfig(process.env);
const handle = await openDatabase({
  url: config.DATABASE_URL,
  dataDir: config.EARSHOT_DATA_DIR,
  migrationsFolder: MIGRATIONS_FOLDER,
});
try {
  await handle.migrate();
  console.log(
    `Migrations applied to the ${handle.kind === 'pglite' ? `embedded database in ${config.EARSHOT_DATA_DIR}` : 'PostgreSQL database'}.`,
  );
} finally {
  await handle.close();
}
