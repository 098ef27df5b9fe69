import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Page, session, whenUnauthorized } from './api-client.ts';
import { type Capabilities, CapabilitiesContext, loadCapabilities, ROUTES } from './capabilities.ts';
import { EndpointDetailPage } from './pages/endpoint-detail-page.tsx';
import { EndpointsPage } from './pages/endpoints-page.tsx';
import { EventDetailPage } from './pages/event-detail-page.tsx';
import { EventsPage } from './pages/events-page.tsx';
import { IntegrationsPage } from './pages/integrations-page.tsx';
import { LivePage } from './pages/live-page.tsx';
import { MessageDetailPage } from './pages/message-detail-page.tsx';
import { MessagesPage } from './pages/messages-page.tsx';
import { OverviewPage } from './pages/overview-page.tsx';
import { SignInPage } from './pages/sign-in-page.tsx';
import { SourceDetailPage } from './pages/source-detail-page.tsx';
import { SourcesPage } from './pages/sources-page.tsx';
import { UnroutedPage } from './pages/unrouted-page.tsx';
import { WorkflowsPage } from './pages/workflows-page.tsx';
import { href, useRoute } from './router.ts';
import { ErrorBox, useLoad } from './ui.tsx';

interface Project {
  id: string;
  name: string;
}

/** Nav entries; one whose API route this server lacks is left out. */
const NAV: [string, string, string?][] = [
  ['overview', 'Overview'],
  ['live', 'Live', ROUTES.stream],
  ['sources', 'Sources'],
  ['events', 'Inbound events'],
  ['unrouted', 'Unrouted inbox'],
  ['endpoints', 'Endpoints'],
  ['messages', 'Messages'],
  ['integrations', 'Integrations'],
  ['workflows', 'Workflows', 'GET /api/v1/projects/{projectId}/executions'],
];

function RoutePage({ route }: { route: string[] }) {
  const [page = 'overview', id] = route;
  switch (page) {
    case 'sources':
      return id ? <SourceDetailPage id={id} /> : <SourcesPage />;
    case 'events':
      return id ? <EventDetailPage id={id} /> : <EventsPage />;
    case 'live':
      return <LivePage />;
    case 'unrouted':
      return <UnroutedPage />;
    case 'endpoints':
      return id ? <EndpointDetailPage id={id} /> : <EndpointsPage />;
    case 'messages':
      return id ? <MessageDetailPage id={id} /> : <MessagesPage />;
    case 'integrations':
      return <IntegrationsPage />;
    case 'workflows':
      return <WorkflowsPage />;
    default:
      return <OverviewPage />;
  }
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const [projectId, setProjectId] = useState(session.projectId());
  const [menuOpen, setMenuOpen] = useState(false);
  const projects = useLoad(() => api<Page<Project>>('/projects?limit=500'), []);
  const [capabilities, setCapabilities] = useState<Capabilities>(new Set());
  useEffect(() => {
    void loadCapabilities().then(setCapabilities);
  }, []);
  const items = projects.data?.items ?? [];
  useEffect(() => {
    const first = items[0];
    if (first && !items.some((p) => p.id === projectId)) {
      session.selectProject(first.id);
      setProjectId(first.id);
    }
  }, [items, projectId]);
  useEffect(() => setMenuOpen(false), [route.join('/')]);
  const current = route[0] ?? 'overview';
  return (
    <div class="shell">
      <button
        type="button"
        class="skip"
        onClick={() => {
          // The hash holds the page's route: move focus without changing it.
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </button>
      <header class="top">
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <strong class="brand">Hookyard</strong>
        {items.length > 1 ? (
          <label class="project-pick">
            <span class="sr-only">Project</span>
            <select
              value={projectId ?? ''}
              onChange={(e) => {
                const id = (e.currentTarget as HTMLSelectElement).value;
                session.selectProject(id);
                setProjectId(id);
              }}
            >
              {items.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id})
                </option>
              ))}
            </select>
          </label>
        ) : (
          <span class="muted project-name">{items[0]?.name}</span>
        )}
        <button type="button" class="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav id="nav" class={menuOpen ? 'nav open' : 'nav'} aria-label="Console">
        {NAV.filter(([, , route]) => !route || capabilities.has(route)).map(([key, label]) => (
          <a key={key} href={href(key)} aria-current={current === key ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <main id="main" tabIndex={-1}>
        <ErrorBox error={projects.error} />
        {projects.data && items.length === 0 ? (
          <p class="empty">
            No project yet. Create one with the operator key: <code>POST /api/v1/projects</code> with{' '}
            <code>{'{"name":"My product"}'}</code>, then reload.
          </p>
        ) : projectId ? (
          <CapabilitiesContext.Provider value={capabilities}>
            <RoutePage key={`${projectId}/${route.join('/')}`} route={route} />
          </CapabilitiesContext.Provider>
        ) : null}
      </main>
    </div>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(session.key() !== null);
  useEffect(() => {
    whenUnauthorized(() => {
      session.signOut();
      setSignedIn(false);
    });
  }, []);
  if (!signedIn) return <SignInPage onSignedIn={() => setSignedIn(true)} />;
  return (
    <Shell
      onSignOut={() => {
        session.signOut();
        setSignedIn(false);
      }}
    />
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
