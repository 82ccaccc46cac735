// The sign-in page: username + password, and "Log in with SSO" above them when SSO is enabled.
// SSO refusals are a page of the server's own (saml.page.ts); a /login?error=…&ref=… link shows only
// a refusal's own sentence and a reference in its form (../auth/login-params.ts), never the link's text.
import { useEffect, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { ApiError, setCsrfToken } from '../api/client.ts';
import { authApi } from '../api/identity.ts';
import type { SsoInfo } from '../api/types.ts';
import { refusalReference, refusalSentence, safeReturnTo } from '../auth/login-params.ts';
import { useDocumentTitle } from '../ui/PageHeader.tsx';

export default function LoginScreen() {
  const [params] = useSearchParams();
  const returnTo = safeReturnTo(params.get('returnTo'));
  const ssoError = params.get('error');
  const ssoRef = refusalReference(params.get('ref'));
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sso, setSso] = useState<SsoInfo | null>(null);

  useDocumentTitle('Sign in');
  useEffect(() => {
    authApi
      .sso()
      .then(setSso)
      .catch(() => setSso(null));
  }, []);

  const ssoHref = (() => {
    if (!sso?.enabled) return null;
    const base = sso.loginUrl || '/AuthorizationServer/Saml2/Login';
    return `${base}${base.includes('?') ? '&' : '?'}returnTo=${encodeURIComponent(returnTo)}`;
  })();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError('Enter your user name and password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await authApi.login(username.trim(), password);
      setCsrfToken(null);
      // A full load so every screen starts from the new session.
      window.location.assign(returnTo);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 429) setError(err.message);
      else if (err instanceof ApiError && err.status === 401) setError('The user name or password is not correct, or the account is not active.');
      else setError(err instanceof Error ? err.message : 'Sign-in failed.');
    }
  };

  return (
    <div className="login-page">
      <main className="login-card" aria-labelledby="login-title">
        <div className="login-brand">Ledgerline</div>
        <h1 id="login-title">Sign in</h1>
        {ssoError && (
          <div className="banner banner-error" role="alert" data-testid="sso-error">
            <p>{refusalSentence(ssoError, ssoRef !== null)}</p>
            {ssoRef && (
              <p className="banner-ref">
                Reference: <code>{ssoRef}</code>
              </p>
            )}
          </div>
        )}
        {ssoHref && (
          <>
            <a className="btn btn-secondary btn-block" href={ssoHref}>
              Log in with SSO
            </a>
            <div className="login-or">
              <span>or sign in with a password</span>
            </div>
          </>
        )}
        <form onSubmit={submit} noValidate className="form">
          <div className="field">
            <label className="field-label" htmlFor="username">
              User name
            </label>
            <input id="username" name="username" className="input" autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="password">
              Password
            </label>
            <input id="password" name="password" type="password" className="input" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </div>
          {error && (
            <div className="field-error" role="alert">
              {error}
            </div>
          )}
          <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </main>
    </div>
  );
}
