import { AppError } from '../../shared/errors.ts';
import { PaymentProviderError } from '../provider.ts';

/**
 * Runs a provider call on behalf of an API request and turns provider failures into answers the
 * caller can act on: a retryable one (network, timeout, 5xx, rate limit) becomes 503 with
 * Retry-After; a refused request becomes 422 on `field`.
 */
export async function askProvider<T>(call: () => Promise<T>, field: string | null = null): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof PaymentProviderError)) throw error;
    if (error.retryable) {
      throw new AppError('unavailable', 'The payment provider did not answer in time; try again shortly.', null, 5);
    }
    throw new AppError('validation_error', `The payment provider refused the request: ${error.message}`, field);
  }
}
