import { useState } from 'preact/hooks';
import { type AuthMethods, signInWithPassword, signInWithToken } from '../api/session';
import { Icon } from '../components/icons';
import { Button, ErrorNote, TextField } from '../components/ui';
import { useTitle } from '../lib/hooks';

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

  const submit = async (e: Event) => {
    e.preventDefault();
    setTouched(true);
    if (mode === 'token' ? token.trim() === '' : username.trim() === '' || password === '') return;
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'token') await signInWithToken(token.trim(), methods);
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
              hint={
                methods.sessions
                  ? 'It is exchanged for a session; the page does not keep it.'
                  : 'Kept in this page’s memory only: reloading the page signs you out.'
              }
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
