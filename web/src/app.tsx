import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Auth, can, getAuth, onAuthChange, type Role } from './api/auth';
import { describeError } from './api/errors';
import { type AuthMethods, authMethods, resumeSession, signOut } from './api/session';
import { Icon, type IconName } from './components/icons';
import { Button, Loading, Toasts, toast } from './components/ui';
import { applyTheme, storedTheme, type ThemeChoice } from './lib/theme';
import { AuditPage } from './pages/audit';
import { DashboardPage } from './pages/dashboard';
import { HelpPage } from './pages/help';
import { InstancesPage } from './pages/instances';
import { PricingPage } from './pages/pricing';
import { ProjectPage } from './pages/project';
import { ProjectsPage } from './pages/projects';
import { SignInPage } from './pages/sign-in';
import { TokenPage } from './pages/token';
import { TokensPage } from './pages/tokens';
import { TryItPage } from './pages/try-it';
import { UsersPage } from './pages/users';
import { href, match, useRoute } from './router';

interface NavItem {
  path: string;
  label: string;
  icon: IconName;
  role?: Role;
}

const NAV: Array<{ label: string; items: NavItem[] }> = [
  {
    label: 'Overview',
    items: [
      { path: '/', label: 'Dashboard', icon: 'dashboard' },
      { path: '/projects', label: 'Projects', icon: 'projects' },
      { path: '/tokens', label: 'Tokens', icon: 'tokens' },
    ],
  },
  {
    label: 'Operate',
    items: [
      { path: '/try', label: 'Try it', icon: 'play' },
      { path: '/audit', label: 'Audit log', icon: 'audit' },
      { path: '/pricing', label: 'Pricing', icon: 'pricing' },
      { path: '/instances', label: 'Instances', icon: 'monitor' },
      { path: '/users', label: 'Users & sessions', icon: 'users', role: 'admin' },
      { path: '/help', label: 'Help', icon: 'help' },
    ],
  },
];

function pageFor(path: string): ComponentChildren {
  const project = match('/projects/:id', path);
  const token = match('/tokens/:id', path);
  if (match('/', path)) return <DashboardPage />;
  if (match('/projects', path)) return <ProjectsPage />;
  if (project) return <ProjectPage id={project.id as string} />;
  if (match('/tokens', path)) return <TokensPage />;
  if (token) return <TokenPage id={token.id as string} />;
  if (match('/try', path)) return <TryItPage />;
  if (match('/audit', path)) return <AuditPage />;
  if (match('/pricing', path)) return <PricingPage />;
  if (match('/instances', path)) return <InstancesPage />;
  if (match('/users', path)) return <UsersPage />;
  if (match('/help', path)) return <HelpPage />;
  return (
    <div class="card card-body">
      <h1>Page not found</h1>
      <p class="muted">
        There is no page at this address. <a href={href('/')}>Go to the dashboard</a>.
      </p>
    </div>
  );
}

const THEME_NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };
const THEME_ICON: Record<ThemeChoice, IconName> = { system: 'monitor', light: 'sun', dark: 'moon' };

const THEME_LABEL: Record<ThemeChoice, string> = { system: 'System theme', light: 'Light theme', dark: 'Dark theme' };

/** Cycles system → light → dark; the visible text is the button's name, the title says what comes next. */
function ThemeToggle({ choice, onChange }: { choice: ThemeChoice; onChange: (c: ThemeChoice) => void }) {
  return (
    <Button
      variant="ghost"
      size="sm"
      title={`Switch to ${THEME_LABEL[THEME_NEXT[choice]].toLowerCase()}`}
      onClick={() => onChange(THEME_NEXT[choice])}
      data-testid="theme-toggle"
    >
      <Icon name={THEME_ICON[choice]} size={16} />
      {THEME_LABEL[choice]}
    </Button>
  );
}

function useAuth(): Auth {
  const [auth, setAuthState] = useState(getAuth);
  useEffect(() => onAuthChange(() => setAuthState(getAuth())), []);
  return auth;
}

export function App() {
  const route = useRoute();
  const auth = useAuth();
  const [theme, setTheme] = useState<ThemeChoice>(storedTheme);
  const [methods, setMethods] = useState<AuthMethods | undefined>();
  const [bootError, setBootError] = useState<unknown>();
  const [menu, setMenu] = useState(false);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    applyTheme(theme);
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const follow = () => theme === 'system' && applyTheme('system');
    mq.addEventListener('change', follow);
    return () => mq.removeEventListener('change', follow);
  }, [theme]);

  useEffect(() => {
    authMethods()
      .then(async (m) => {
        await resumeSession();
        setMethods(m);
      })
      .catch(setBootError);
  }, []);

  // Signed out by the server (a 401 while signed in): say so on the sign-in page.
  const [wasIn, setWasIn] = useState(false);
  useEffect(() => {
    if (auth.kind !== 'none') setWasIn(true);
    else if (wasIn) {
      setExpired(true);
      setWasIn(false);
    }
  }, [auth.kind, wasIn]);

  useEffect(() => setMenu(false), [route.path]);

  if (bootError) {
    return (
      <div class="signin">
        <div class="card">
          <h1>Cannot reach llm-proxy</h1>
          <p class="muted">{describeError(bootError)}</p>
        </div>
      </div>
    );
  }
  if (!methods) return <Loading rows={2} label="Starting" />;
  if (auth.kind === 'none') {
    return (
      <>
        <SignInPage
          methods={methods}
          notice={expired ? 'You were signed out. Sign in again to continue.' : undefined}
          onSignedIn={() => setExpired(false)}
        />
        <Toasts />
      </>
    );
  }

  const user = auth.user;
  const doSignOut = async () => {
    setWasIn(false);
    try {
      await signOut();
    } catch (err) {
      toast(describeError(err), 'danger');
    }
  };

  return (
    <div class="shell" data-menu={menu ? 'open' : 'closed'}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Button
          variant="ghost"
          class="btn-icon"
          aria-label="Open the menu"
          aria-expanded={menu}
          onClick={() => setMenu(true)}
        >
          <Icon name="menu" />
        </Button>
        <a class="brand" href={href('/')}>
          <span class="brand-mark">
            <Icon name="tokens" size={16} />
          </span>
          llm-proxy
        </a>
        <ThemeToggle choice={theme} onChange={setTheme} />
      </header>
      {menu && <div class="scrim" onClick={() => setMenu(false)} aria-hidden="true" />}
      <aside class="sidebar" aria-label="Main">
        <a class="brand" href={href('/')}>
          <span class="brand-mark">
            <Icon name="tokens" size={16} />
          </span>
          <span>
            llm-proxy
            <small>Admin</small>
          </span>
        </a>
        <nav class="nav" aria-label="Pages">
          {NAV.map((group) => (
            <div key={group.label} class="nav">
              <div class="nav-label">{group.label}</div>
              {group.items
                .filter((i) => !i.role || can(i.role))
                .map((i) => {
                  const active =
                    i.path === '/' ? route.path === '/' : route.path === i.path || route.path.startsWith(`${i.path}/`);
                  return (
                    <a key={i.path} href={href(i.path)} aria-current={active ? 'page' : undefined}>
                      <Icon name={i.icon} />
                      {i.label}
                    </a>
                  );
                })}
            </div>
          ))}
        </nav>
        <div class="sidebar-foot">
          <div class="who" data-testid="who">
            <span class="avatar" aria-hidden="true">
              {user.username.slice(0, 2)}
            </span>
            <div>
              <div class="who-name">{user.username}</div>
              <div class="who-role">{user.role}</div>
            </div>
          </div>
          <div class="row">
            <ThemeToggle choice={theme} onChange={setTheme} />
            <Button variant="ghost" size="sm" icon="logout" onClick={doSignOut}>
              Sign out
            </Button>
          </div>
        </div>
      </aside>
      <main id="main" tabIndex={-1}>
        {pageFor(route.path)}
      </main>
      <Toasts />
    </div>
  );
}
