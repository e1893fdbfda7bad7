import { useState } from 'preact/hooks';
import { type AuthMethods, signInWithPassword, signInWithToken } from '../api/session';
import { Icon } from '../components/icons';
import { Button, ErrorNote, TextField } from '../components/ui';
import { useTitle } from '../lib/hooks';

/** Why a single sign-on came back without a session (`/admin/?sign_in_error=<code>`). */
const SSO_ERRORS: Record<string, string> = {
  oidc_not_allowed:
    'Single sign-on worked, but your account is not allowed here. Ask an admin to add your email or group.',
  oidc_state_invalid: 'The single sign-on took too long or was started in another tab. Try again.',
  oidc_token_invalid: 'The identity provider’s answer could not be verified. Try again, or ask an admin.',
  oidc_provider_error: 'The identity provider refused or could not be reached. Try again later.',
};

function ssoError(): string | undefined {
  const code = new URLSearchParams(location.search).get('sign_in_error');
  if (!code) return undefined;
  // Said once: a reload or a bookmark of this address must not repeat it.
  history.replaceState(null, '', location.pathname);
  return SSO_ERRORS[code] ?? `Single sign-on failed (${code}).`;
}

export function SignInPage(props: { methods: AuthMethods; notice?: string | undefined; onSignedIn: () => void }) {
  useTitle('Sign in');
  const { methods } = props;
  const [mode, setMode] = useState<'password' | 'token'>(methods.password ? 'password' : 'token');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [touched, setTouched] = useState(false);
  const [sso] = useState(ssoError);

  const submit = async (e: Event) => {
    e.preventDefault();
    setTouched(true);
    if (mode === 'token' ? token.trim() === '' : username.trim() === '' || password === '') return;
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'token') await signInWithToken(token.trim());
      else await signInWithPassword(username.trim(), password);
      setToken('');
      setPassword('');
      props.onSignedIn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="signin">
      <main class="card" aria-labelledby="signin-title">
        <div class="brand">
          <span class="brand-mark">
            <Icon name="tokens" size={16} />
          </span>
          <span>
            llm-proxy
            <small>Admin</small>
          </span>
        </div>
        <form class="form" onSubmit={submit} noValidate>
          <div>
            <h1 id="signin-title">Sign in</h1>
            <p class="muted">
              {mode === 'token'
                ? 'Paste the management token. It is printed when the server starts and kept in DATA_DIR/management-token.'
                : 'Sign in with your admin user.'}
            </p>
          </div>
          {sso && (
            <div class="alert danger" role="alert">
              {sso}
            </div>
          )}
          {props.notice && (
            <div class="alert warn" role="status">
              {props.notice}
            </div>
          )}
          {mode === 'password' ? (
            <>
              <TextField
                label="Username"
                name="username"
                value={username}
                onInput={setUsername}
                autoComplete="username"
                autoFocus
                problem={touched && username.trim() === '' ? 'Enter your username.' : undefined}
              />
              <TextField
                label="Password"
                name="password"
                type="password"
                value={password}
                onInput={setPassword}
                autoComplete="current-password"
                problem={touched && password === '' ? 'Enter your password.' : undefined}
              />
            </>
          ) : (
            <TextField
              label="Management token"
              name="token"
              type="password"
              value={token}
              onInput={setToken}
              autoComplete="off"
              autoFocus
              hint="It is exchanged for a session; the page does not keep it."
              problem={touched && token.trim() === '' ? 'Paste the management token.' : undefined}
            />
          )}
          <ErrorNote error={error} />
          <Button variant="primary" type="submit" busy={busy}>
            Sign in
          </Button>
          {(methods.oidc || (methods.password && methods.token)) && <div class="divider">or</div>}
          {methods.oidc && (
            <a class="btn" href="/manage/oidc/login">
              Sign in with single sign-on
            </a>
          )}
          {methods.password && methods.token && (
            <Button
              variant="ghost"
              onClick={() => {
                setMode(mode === 'token' ? 'password' : 'token');
                setTouched(false);
                setError(undefined);
              }}
            >
              {mode === 'token' ? 'Use a username and password' : 'Use the management token'}
            </Button>
          )}
        </form>
      </main>
    </div>
  );
}
