// The vodpipe API (docs/api.md), with the session's token and one refresh on a 401.
import { accessToken, currentSession, refreshSession } from "./auth";
import { loadConfig } from "./config";

export type Rendition = { name: string; width: number; height: number; playlist_url: string };
export type Video = {
  id: string;
  title: string | null;
  description: string | null;
  status: "processing" | "done" | "failed";
  failure_reason: string | null;
  created_at: string;
  playback_url: string | null;
  /** The DASH manifest of a video packaged as CMAF; null for MPEG-TS. */
  dash_url: string | null;
  thumbnail_url: string | null;
  renditions: Rendition[];
  duration_ms: number | null;
};
export type VideoList = { videos: Video[]; next_cursor: string | null };
export type UploadTicket = {
  video_id: string;
  url: string;
  fields: Record<string, string>;
  max_bytes: number;
  expires_at: string;
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The session is gone or no longer accepted: sign in again. */
export class SessionExpired extends ApiError {
  constructor() {
    super(401, "session_expired", "Your session has expired. Please sign in again.");
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; auth?: boolean } = {}): Promise<T> {
  const { apiBaseUrl } = await loadConfig();
  const send = async (token: string | null) => {
    const headers: Record<string, string> = {};
    if (init.body !== undefined) headers["content-type"] = "application/json";
    if (token) headers.authorization = `Bearer ${token}`;
    return fetch(`${apiBaseUrl}${path}`, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  };
  let token = init.auth || currentSession() ? await accessToken() : null;
  if (init.auth && !token) throw new SessionExpired();
  let response = await send(token);
  if (response.status === 401 && token) {
    token = (await refreshSession())?.accessToken ?? null;
    if (!token) throw new SessionExpired();
    response = await send(token);
  }
  if (response.status === 401 && init.auth) throw new SessionExpired();
  if (response.status === 204) return undefined as T;
  const json = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, json?.error ?? "http_error", json?.message ?? `HTTP ${response.status}`);
  }
  return json as T;
}
