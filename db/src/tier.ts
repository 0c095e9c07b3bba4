import type { Tier } from './config.ts';

const COLOURS: Record<Tier, string> = { int: '\u001b[32m', stg: '\u001b[33m', prod: '\u001b[41;97m' };
const RESET = '\u001b[0m';

/** "[DB tier: PROD]" in the tier's colour (green INT, yellow STG, white-on-red PROD). */
export function formatTier(tier: Tier, options: { colour?: boolean } = {}): string {
  const label = `[DB tier: ${tier.toUpperCase()}]`;
  return options.colour === false ? label : `${COLOURS[tier]}${label}${RESET}`;
}

export interface Terminal {
  isInteractive: boolean;
  ask(question: string): Promise<string>;
}

/**
 * Destructive commands (reset, seed over existing data) against PROD need a person at a terminal
 * who types "yes"; without a terminal they are refused. INT and STG proceed.
 */
export async function confirmDestructive(tier: Tier, action: string, terminal: Terminal): Promise<void> {
  if (tier !== 'prod') return;
  if (!terminal.isInteractive) {
    throw new TierRefusal(`Refusing to ${action} on the PROD tier without an interactive terminal.`);
  }
  const answer = await terminal.ask(`You are about to ${action} on PROD. Type "yes" to continue: `);
  if (answer.trim() !== 'yes') throw new TierRefusal(`Not confirmed; nothing was changed.`);
}

export class TierRefusal extends Error {
  override readonly name = 'TierRefusal';
}
