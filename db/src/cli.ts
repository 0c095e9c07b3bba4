import readline from 'node:readline/promises';
import { loadDbConfig } from './config.ts';
import { openDatabase } from './connection.ts';
import { generateSchemaTypes } from './codegen.ts';
import { migrateDownAll, migrateToLatest, migrationStatus } from './migrate.ts';
import { confirmDestructive, formatTier, type Terminal, TierRefusal } from './tier.ts';

const USAGE = `Usage: npm run db -- <command>
  migrate   apply pending migrations
  status    list migrations and whether they ran
  seed      load the demo data (idempotent; refused on PROD)
  reset     drop everything, migrate, seed (INT/STG; PROD needs an interactive "yes")
  codegen   regenerate db/src/schema.ts from the migrated schema`;

/** Runs one CLI command; returns the process exit code. Exported for tests. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  terminal: Terminal,
  out: (line: string) => void = console.log,
): Promise<number> {
  const command = args[0];
  if (!command || !['migrate', 'status', 'seed', 'reset', 'codegen'].includes(command)) {
    out(USAGE);
    return command ? 2 : 0;
  }
  const config = loadDbConfig(env);
  out(`${formatTier(config.tier, { colour: env.NO_COLOR === undefined })} ${command}`);
  const database = await openDatabase(config);
  out(`database: ${database.location}`);
  try {
    switch (command) {
      case 'migrate': {
        const applied = await migrateToLatest(database.db);
        out(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
        break;
      }
      case 'status': {
        for (const item of await migrationStatus(database.db)) {
          out(`${item.executedAt ? 'applied ' + item.executedAt.toISOString() : 'pending'}  ${item.name}`);
        }
        break;
      }
      case 'seed': {
        if (config.tier === 'prod') throw new TierRefusal('Demo data is never loaded into PROD.');
        await migrateToLatest(database.db);
        const { seedDemoData } = await import('./seed/index.ts');
        const summary = await seedDemoData(database.db);
        out(summary.created ? `seeded: ${JSON.stringify(summary.counts)}` : 'demo data already present; nothing changed');
        break;
      }
      case 'reset': {
        await confirmDestructive(config.tier, 'drop every table and reload the demo data', terminal);
        await migrateDownAll(database.db);
        await migrateToLatest(database.db);
        if (config.tier !== 'prod') {
          const { seedDemoData } = await import('./seed/index.ts');
          const summary = await seedDemoData(database.db);
          out(`reset done; seeded: ${JSON.stringify(summary.counts)}`);
        } else {
          out('reset done (no demo data on PROD)');
        }
        break;
      }
      case 'codegen': {
        await migrateToLatest(database.db);
        const fs = await import('node:fs');
        const target = new URL('./schema.ts', import.meta.url);
        fs.writeFileSync(target, await generateSchemaTypes(database.db));
        out(`wrote ${target.pathname}`);
        break;
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof TierRefusal) {
      out(error.message);
      return 3;
    }
    throw error;
  } finally {
    await database.close();
  }
}

function processTerminal(): Terminal {
  return {
    isInteractive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    async ask(question) {
      const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv.slice(2), process.env, processTerminal()).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
