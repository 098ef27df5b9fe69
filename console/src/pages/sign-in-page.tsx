import { useState } from 'preact/hooks';
import { api, type Page, session } from '../api-client.ts';
import { ErrorBox, Field, inputValue, useAction } from '../ui.tsx';

export function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const signIn = useAction(async (candidate: string) => {
    // The key is checked before it is kept: a wrong one is never stored.
    const projects = await api<Page<{ id: string }>>('/projects?limit=1', { key: candidate });
    session.signIn(candidate);
    const first = projects.items[0];
    if (first) session.selectProject(first.id);
    onSignedIn();
  });
  return (
    <main class="sign-in">
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void signIn.act(key.trim());
        }}
      >
        <h1>Hookyard console</h1>
        <p class="muted">
          Sign in with a project API key or the operator key. The key is kept in this tab only
          (sessionStorage) and is forgotten when the tab closes.
        </p>
        <Field label="API key">
          <input
            name="key"
            type="password"
            autoComplete="off"
            required
            value={key}
            onInput={(e) => setKey(inputValue(e))}
          />
        </Field>
        <ErrorBox error={signIn.error} />
        <button type="submit" disabled={signIn.busy || key.trim() === ''}>
          {signIn.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
