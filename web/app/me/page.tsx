"use client";

import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { api, SessionExpired, type Video, type VideoList } from "@/lib/api";
import { useSession } from "@/components/useSession";
import { Alert, StatusBadge } from "@/components/ui";

export default function MyVideosPage() {
  const session = useSession();
  const [videos, setVideos] = useState<Video[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [expired, setExpired] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const all: Video[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=100&cursor=${encodeURIComponent(cursor)}` : "?limit=100";
        const page: VideoList = await api<VideoList>(`/api/me/videos${query}`, { auth: true });
        all.push(...page.videos);
        cursor = page.next_cursor;
      } while (cursor);
      setVideos(all);
      setError(null);
    } catch (e) {
      if (e instanceof SessionExpired) setExpired(true);
      else setError(e instanceof Error ? e.message : String(e));
    }
  }, []);

  useEffect(() => {
    if (session) refresh();
  }, [session, refresh]);

  // Live status: poll while anything is still processing.
  const processing = videos?.some((v) => v.status === "processing") ?? false;
  useEffect(() => {
    if (!processing) return;
    const timer = window.setInterval(refresh, 2000);
    return () => window.clearInterval(timer);
  }, [processing, refresh]);

  async function remove(video: Video) {
    if (!window.confirm(`Delete “${video.title ?? video.id}”? This cannot be undone.`)) return;
    try {
      await api(`/api/videos/${encodeURIComponent(video.id)}`, { method: "DELETE", auth: true });
      setVideos((shown) => shown?.filter((v) => v.id !== video.id) ?? null);
    } catch (e) {
      if (e instanceof SessionExpired) setExpired(true);
      else setError(e instanceof Error ? e.message : String(e));
    }
  }

  if (session === null || expired) {
    return (
      <Alert kind="info">
        {expired ? "Your session has expired. " : ""}
        <Link href="/signin/?next=/me/" className="underline">
          Sign in
        </Link>{" "}
        to see your videos.
      </Alert>
    );
  }

  return (
    <section aria-labelledby="me-title" className="space-y-4">
      <h1 id="me-title" className="text-2xl font-semibold">
        My videos
      </h1>
      {error && <Alert kind="error">{error}</Alert>}
      {videos && videos.length === 0 && (
        <p>
          Nothing yet.{" "}
          <Link href="/upload/" className="underline">
            Upload a video
          </Link>
          .
        </p>
      )}
      <ul className="divide-y divide-slate-200 rounded-lg bg-white ring-1 ring-slate-200">
        {videos?.map((video) => (
          <li key={video.id} data-video-id={video.id} className="flex items-center gap-3 p-3">
            <div className="min-w-0 flex-1">
              <p className="truncate font-medium">
                {video.status === "done" ? (
                  <Link href={`/watch/?v=${encodeURIComponent(video.id)}`} className="hover:underline">
                    {video.title ?? "Untitled"}
                  </Link>
                ) : (
                  (video.title ?? "Untitled")
                )}
              </p>
              {video.status === "failed" && video.failure_reason && (
                <p className="text-sm text-red-700">Failed: {video.failure_reason}</p>
              )}
            </div>
            <StatusBadge status={video.status} />
            <button
              type="button"
              className="rounded border border-slate-300 px-2 py-1 text-sm hover:bg-red-50"
              onClick={() => remove(video)}
              aria-label={`Delete ${video.title ?? video.id}`}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
