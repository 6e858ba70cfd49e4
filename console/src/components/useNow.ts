import { useEffect, useState } from 'react';

/**
 * The current time, again every `intervalMs` while `ticking`: for what a screen says relative to
 * now (a countdown, "in 3 hours"). `offset` moves it to another clock (the API's).
 */
export function useNow(intervalMs: number, options: { offset?: number; ticking?: boolean } = {}) {
  const { offset = 0, ticking = true } = options;
  const [now, setNow] = useState(() => Date.now() + offset);
  useEffect(() => {
    setNow(Date.now() + offset);
    if (!ticking) return;
    const timer = window.setInterval(() => setNow(Date.now() + offset), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs, offset, ticking]);
  return now;
}
