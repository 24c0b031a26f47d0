import { type Config, ConfigError, loadConfig } from '../config.js';
import { loadEnvFile } from '../env-file.js';
import { openDatabase } from './client.js';
import { MIGRATIONS_FOLDER } from './paths.js';

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded database. */
loadEnvFile();
let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  // The same answer as `npm start`: the message names each bad variable; 78 is EX_CONFIG.
  console.error(`${err.message}\n\nSee .env.example and the configuration table in README.md.`);
  process.exit(78);
}
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
