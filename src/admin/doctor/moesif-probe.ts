/**
 * "Moesif application id accepted": a Collector API call that writes nothing, an empty user
 * batch (POST /v1/users/batch with []). Moesif authenticates it like any write (401 for an
 * unknown id), unlike GET /v1/config, which a collector may answer without checking the id.
 */
import { MonetizationError } from '../../shared/errors.ts';

export async function probeMoesifApplicationId(apiBase: string, applicationId: string, options: { timeoutMs?: number; fetch?: typeof fetch } = {}): Promise<number> {
  const url = `${apiBase.replace(/\/+$/, '')}/v1/users/batch`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-moesif-application-id': applicationId },
      body: '[]',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? 'timed out' : ((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message);
    throw new MonetizationError('moesif_unavailable', `cannot reach Moesif at ${apiBase} (${reason})`, { hint: 'check MOESIF_API_BASE and the network path to Moesif' });
  }
  await response.arrayBuffer();
  if (response.status === 401 || response.status === 403)
    throw new MonetizationError('moesif_unauthorized', `Moesif at ${apiBase} rejected MOESIF_APPLICATION_ID (${response.status})`, {
      hint: 'set MOESIF_APPLICATION_ID to the Collector Application Id from Moesif > Settings > API Keys',
    });
  if (!response.ok) throw new MonetizationError('moesif_unavailable', `Moesif at ${apiBase} answered ${response.status} to an empty user batch`, { hint: 'check MOESIF_API_BASE; retry if Moesif is having an outage' });
  return response.status;
}
