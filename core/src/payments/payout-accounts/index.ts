/** Instructors' payout accounts (Stripe Connect Express): onboarding links and account state. */
export {
  createPayoutOnboardingLink,
  getPayoutAccount,
  type PayoutAccount,
  type PayoutAccountDeps,
  type PayoutAccountStatus,
  syncPayoutAccountState,
} from './payout-accounts.ts';
