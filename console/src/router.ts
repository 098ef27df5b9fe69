import { useEffect, useState } from 'preact/hooks';

/** Hash routes (`#/events/evt_…`): the server serves one page, and the key never enters a URL. */
export function useRoute(): string[] {
  const read = () =>
    (location.hash.replace(/^#\/?/, '').split('?')[0] ?? '')
      .split('/')
      .filter(Boolean)
      .map(decodeURIComponent);
  const [parts, setParts] = useState(read);
  useEffect(() => {
    const onChange = () => setParts(read());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return parts;
}

export const href = (...parts: string[]) => `#/${parts.map(encodeURIComponent).join('/')}`;

export function navigate(...parts: string[]): void {
  location.hash = href(...parts);
}
