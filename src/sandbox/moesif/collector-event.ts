/**
 * How a gateway emulator's Moesif integration logs one call: one event to the Collector API's
 * batch route, as the Kong plugin and the AWS integration send it. The outcome lands on `delivery`
 * (the emulators keep a list of them for tests); a failure is recorded, never thrown.
 */
interface CollectorDelivery {
  status: number | undefined;
  error?: string | undefined;
}

export async function postCollectorEvent(moesifUrl: string, applicationId: string, event: unknown, delivery: CollectorDelivery): Promise<void> {
  try {
    const response = await fetch(`${moesifUrl.replace(/\/+$/, '')}/v1/events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-moesif-application-id': applicationId },
      body: JSON.stringify([event]),
      signal: AbortSignal.timeout(10_000),
    });
    delivery.status = response.status;
    await response.arrayBuffer();
  } catch (error) {
    delivery.error = (error as Error).message;
  }
}
