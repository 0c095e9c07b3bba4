import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.ts';
import { loadDbConfig } from '../src/config.ts';
import { confirmDestructive, formatTier, TierRefusal } from '../src/tier.ts';

const noTerminal = { isInteractive: false, ask: async () => 'yes' };

describe('database tiers', () => {
  it('default to INT and read DB_TIER case-insensitively', () => {
    expect(loadDbConfig({}).tier).toBe('int');
    expect(loadDbConfig({ DB_TIER: 'PROD' }).tier).toBe('prod');
    expect(() => loadDbConfig({ DB_TIER: 'production' })).toThrow(/DB_TIER/);
  });

  it('print the tier in colour, red for PROD', () => {
    expect(formatTier('prod')).toContain('\u001b[41;97m[DB tier: PROD]');
    expect(formatTier('int', { colour: false })).toBe('[DB tier: INT]');
  });

  it('refuse a destructive command on PROD without a terminal, even if something would answer yes', async () => {
    await expect(confirmDestructive('prod', 'reset', noTerminal)).rejects.toBeInstanceOf(TierRefusal);
  });

  it('ask a person on PROD and accept only "yes"', async () => {
    await expect(confirmDestructive('prod', 'reset', { isInteractive: true, ask: async () => 'y' })).rejects.toThrow(/Not confirmed/);
    await expect(confirmDestructive('prod', 'reset', { isInteractive: true, ask: async () => 'yes\n' })).resolves.toBeUndefined();
    await expect(confirmDestructive('int', 'reset', noTerminal)).resolves.toBeUndefined();
  });

  it('make `db reset` on PROD exit non-zero without touching the database', async () => {
    const lines: string[] = [];
    const code = await runCli(['reset'], { DB_TIER: 'prod', PGLITE_DATA_DIR: 'memory://', NO_COLOR: '1' }, noTerminal, (line) =>
      lines.push(line),
    );
    expect(code).toBe(3);
    expect(lines.join('\n')).toMatch(/\[DB tier: PROD\][\s\S]*Refusing to drop every table/);
  });

  it('refuse to seed demo data into PROD', async () => {
    const lines: string[] = [];
    const code = await runCli(['seed'], { DB_TIER: 'prod', PGLITE_DATA_DIR: 'memory://', NO_COLOR: '1' }, noTerminal, (line) =>
      lines.push(line),
    );
    expect(code).toBe(3);
    expect(lines.join('\n')).toMatch(/never loaded into PROD/);
  });
});
