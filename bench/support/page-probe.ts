/**
 * Script injected into every portal page before its own scripts: records when the register form
 * is submitted, when the page starts navigating away (the theme's redirect), the long tasks
 * (PerformanceObserver 'longtask', over 50 ms) and the timings of the signup requests. It saves
 * them to sessionStorage when the page navigates, so the bench reads them on the next page.
 */
export const PROBE_KEY_PREFIX = 'kpm-bench:';

export interface PageProbe {
  path: string;
  /** performance.now() of the submit event (capture phase, before the theme's handler). */
  submitAt: number | null;
  /** performance.now() when the page began navigating (window.navigation 'navigate'). */
  navigateAt: number | null;
  longTasks: Array<{ start: number; duration: number }>;
  /** Resource timings of the calls the signup makes: portal /register, /auth, provisioner /provision. */
  requests: Array<{ name: string; start: number; duration: number }>;
}

/**
 * The probe as page source. A string, not a serialized function: tsx compiles functions with
 * helper calls (__name) that do not exist in the page.
 */
export function pageProbeScript(prefix: string = PROBE_KEY_PREFIX): string {
  return `(() => {
  const prefix = ${JSON.stringify(prefix)};
  const probe = { path: location.pathname, submitAt: null, navigateAt: null, longTasks: [], requests: [] };
  let observer;
  try {
    observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) probe.longTasks.push({ start: entry.startTime, duration: entry.duration });
    });
    observer.observe({ type: 'longtask', buffered: true });
  } catch (error) {
    probe.longTasks = null; // no longtask support: the bench reports null
  }
  const save = () => {
    if (observer && probe.longTasks) for (const entry of observer.takeRecords()) probe.longTasks.push({ start: entry.startTime, duration: entry.duration });
    probe.requests = performance.getEntriesByType('resource')
      .filter((entry) => /\\/(register|auth|provision)(\\?|$)/.test(entry.name))
      .map((entry) => ({ name: entry.name, start: entry.startTime, duration: entry.duration }));
    sessionStorage.setItem(prefix + probe.path, JSON.stringify(probe));
  };
  document.addEventListener('submit', () => {
    if (probe.submitAt === null) probe.submitAt = performance.now();
  }, true);
  if (window.navigation) window.navigation.addEventListener('navigate', () => {
    if (probe.submitAt !== null && probe.navigateAt === null) {
      probe.navigateAt = performance.now();
      save();
    }
  });
  addEventListener('pagehide', save);
})();`;
}
