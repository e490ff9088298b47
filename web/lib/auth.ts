// Sessions: vodpipe's own accounts (embedded mode) or a Cognito user pool (AWS mode), as the
// runtime config says. Tokens live in localStorage; the access token is refreshed shortly
// before it expires.
import { loadConfig, type Config } from "./config";

export type Session = {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  username: string;
};

const KEY = "vodpipe.session";
export const SESSION_EVENT = "vodpipe-session";

export class AuthError extends Error {}

export function currentSession(): Session | null {
  if (typeof window === "undefined") return null;
  try {
    const stored = window.localStorage.getItem(KEY);
    return stored ? (JSON.parse(stored) as Session) : null;
  } catch {
    return null;
  }
}

function store(session: Session | null) {
  if (session) window.localStorage.setItem(KEY, JSON.stringify(session));
  else window.localStorage.removeItem(KEY);
  window.dispatchEvent(new Event(SESSION_EVENT));
}

type Tokens = { access_token: string; refresh_token: string; expires_in: number; username: string };

async function local(path: string, body: unknown): Promise<Response> {
  return fetch(`${(await loadConfig()).apiBaseUrl}/api/auth/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function localTokens(path: string, body: unknown): Promise<Session> {
  const response = await local(path, body);
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new AuthError(json.message ?? `HTTP ${response.status}`);
  const tokens = json as Tokens;
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    username: tokens.username,
  };
}

/** One call of the Cognito user pool API (no SDK needed for these few). */
async function cognito(config: Config, operation: string, body: Record<string, unknown>) {
  const pool = config.cognito;
  if (!pool) throw new AuthError("config.json has no cognito section");
  const response = await fetch(pool.endpoint ?? `https://cognito-idp.${pool.region}.amazonaws.com/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify({ ClientId: pool.clientId, ...body }),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new AuthError(json.message ?? json.__type ?? `HTTP ${response.status}`);
  return json;
}

function cognitoSession(result: Record<string, unknown>, username: string, refreshToken?: string): Session {
  const auth = result.AuthenticationResult as { AccessToken: string; RefreshToken?: string; ExpiresIn: number };
  return {
    accessToken: auth.AccessToken,
    refreshToken: auth.RefreshToken ?? refreshToken ?? "",
    expiresAt: Date.now() + auth.ExpiresIn * 1000,
    username,
  };
}

/** Signs up; `"confirm"` when the user pool mailed a code to confirm first. */
export async function signUp(username: string, password: string): Promise<"signed-in" | "confirm"> {
  const config = await loadConfig();
  if (config.mode === "aws") {
    const result = await cognito(config, "SignUp", { Username: username, Password: password });
    if (!result.UserConfirmed) return "confirm";
    await signIn(username, password);
    return "signed-in";
  }
  store(await localTokens("signup", { username, password }));
  return "signed-in";
}

export async function confirmSignUp(username: string, code: string) {
  await cognito(await loadConfig(), "ConfirmSignUp", { Username: username, ConfirmationCode: code });
}

export async function signIn(username: string, password: string) {
  const config = await loadConfig();
  if (config.mode === "aws") {
    const result = await cognito(config, "InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    if (!result.AuthenticationResult) throw new AuthError(`sign-in needs ${result.ChallengeName}, which this page does not support`);
    store(cognitoSession(result, username));
    return;
  }
  store(await localTokens("signin", { username, password }));
}

export async function signOut() {
  const session = currentSession();
  store(null);
  if (!session) return;
  const config = await loadConfig();
  // Best effort: the tokens are gone from this browser either way.
  try {
    if (config.mode === "aws") await cognito(config, "RevokeToken", { Token: session.refreshToken });
    else await local("signout", { refresh_token: session.refreshToken });
  } catch {}
}

let refreshing: Promise<Session | null> | null = null;

/** A fresh session, or null when signed out or the refresh token no longer works. */
export async function refreshSession(): Promise<Session | null> {
  const session = currentSession();
  if (!session) return null;
  refreshing ??= (async () => {
    try {
      const config = await loadConfig();
      const fresh =
        config.mode === "aws"
          ? cognitoSession(
              await cognito(config, "InitiateAuth", {
                AuthFlow: "REFRESH_TOKEN_AUTH",
                AuthParameters: { REFRESH_TOKEN: session.refreshToken },
              }),
              session.username,
              session.refreshToken,
            )
          : await localTokens("refresh", { refresh_token: session.refreshToken });
      store(fresh);
      return fresh;
    } catch {
      store(null);
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** The access token to send, refreshed when it expires within 30 s. */
export async function accessToken(): Promise<string | null> {
  const session = currentSession();
  if (!session) return null;
  if (session.expiresAt - Date.now() > 30_000) return session.accessToken;
  return (await refreshSession())?.accessToken ?? null;
}
