"use client";

import { useSearchParams } from "next/navigation";
import { Suspense, useEffect, useRef, useState } from "react";
import { api, ApiError, type Video } from "@/lib/api";
import { choosePlayback, codecFamily, type Format, type Playback } from "@/lib/playback";
import { startPlayer, type Quality, type Session } from "@/lib/players";
import { Alert } from "@/components/ui";

function Player({ video, forced }: { video: Video; forced: Format | null }) {
  const element = useRef<HTMLVideoElement>(null);
  const session = useRef<Session | null>(null);
  const [playback, setPlayback] = useState<Playback | null>(null);
  const [qualities, setQualities] = useState<Quality[]>([]);
  const [selected, setSelected] = useState(-1);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const media = element.current;
    if (!media) return;
    let cancelled = false;
    let started: Session | null = null;
    const fail = (details: string) => {
      if (!cancelled) setError(`Playback failed: ${details}`);
    };
    const events = {
      qualities: (list: Quality[]) => {
        if (!cancelled) setQualities(list);
      },
      switched: (value: number) => {
        media.dataset.level = String(value);
      },
      failed: fail,
    };
    (async () => {
      const chosen = await choosePlayback(video, forced);
      if (cancelled) return;
      setPlayback(chosen);
      started = await startPlayer(media, chosen, video.renditions, events);
      if (cancelled) started.destroy();
      else session.current = started;
    })().catch((e) => fail(e instanceof Error ? e.message : String(e)));
    const onError = () => setError("Playback failed: the media could not be decoded.");
    media.addEventListener("error", onError);
    return () => {
      cancelled = true;
      media.removeEventListener("error", onError);
      started?.destroy();
      session.current = null;
    };
  }, [video, forced]);

  function choose(value: number) {
    setSelected(value);
    session.current?.select(value);
  }

  return (
    <div className="space-y-3">
      {error && <Alert kind="error">{error}</Alert>}
      <video
        ref={element}
        controls
        playsInline
        poster={video.thumbnail_url ?? undefined}
        className="aspect-video w-full rounded-lg bg-black"
        aria-label={video.title ?? "Video"}
        data-player={playback?.format}
      />
      <div className="flex flex-wrap items-center gap-4">
        {qualities.length > 0 && (
          <label className="inline-flex items-center gap-2">
            <span>Quality</span>
            <select
              name="quality"
              className="rounded border border-slate-300 bg-white px-2 py-1"
              value={selected}
              onChange={(e) => choose(Number(e.target.value))}
            >
              <option value={-1}>Auto</option>
              {qualities.map((q) => (
                <option key={q.value} value={q.value}>
                  {q.label}
                </option>
              ))}
            </select>
          </label>
        )}
        {playback && (
          <span data-testid="playback" className="text-sm text-slate-500">
            {playback.format.toUpperCase()} · {playback.engine}
            {playback.codec && ` · ${codecFamily(playback.codec)}`}
          </span>
        )}
      </div>
    </div>
  );
}

/** `?player=hls` or `?player=dash` plays that format whatever the page would choose. */
function forcedFormat(value: string | null): Format | null {
  return value === "hls" || value === "dash" ? value : null;
}

function Watch() {
  const params = useSearchParams();
  const id = params.get("v");
  const forced = forcedFormat(params.get("player"));
  const [video, setVideo] = useState<Video | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!id) {
      setError("No video given.");
      return;
    }
    api<Video>(`/api/videos/${encodeURIComponent(id)}`)
      .then(setVideo)
      .catch((e) => setError(e instanceof ApiError && e.status === 404 ? "There is no such video." : String(e.message ?? e)));
  }, [id]);

  if (error) return <Alert kind="error">{error}</Alert>;
  if (!video) return <p>Loading…</p>;
  return (
    <article className="space-y-4">
      <h1 className="text-2xl font-semibold">{video.title ?? "Untitled"}</h1>
      {video.status === "done" ? (
        <Player video={video} forced={forced} />
      ) : video.status === "failed" ? (
        <Alert kind="error">This video could not be processed{video.failure_reason ? `: ${video.failure_reason}` : "."}</Alert>
      ) : (
        <Alert kind="info">This video is still being processed.</Alert>
      )}
      {video.description && <p className="whitespace-pre-line text-slate-700">{video.description}</p>}
    </article>
  );
}

export default function WatchPage() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <Watch />
    </Suspense>
  );
}
