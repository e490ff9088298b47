"use client";

import { useSearchParams } from "next/navigation";
import { Suspense, useEffect, useRef, useState } from "react";
import type Hls from "hls.js";
import { api, ApiError, type Video } from "@/lib/api";
import { Alert } from "@/components/ui";

type Quality = { value: number; label: string };

function Player({ video }: { video: Video }) {
  const element = useRef<HTMLVideoElement>(null);
  const hls = useRef<Hls | null>(null);
  const [qualities, setQualities] = useState<Quality[]>([]);
  const [selected, setSelected] = useState(-1);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const media = element.current;
    if (!media || !video.playback_url) return;
    let cancelled = false;
    (async () => {
      const { default: Hls } = await import("hls.js");
      if (cancelled) return;
      if (Hls.isSupported()) {
        const player = new Hls();
        hls.current = player;
        player.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
          setQualities(data.levels.map((level, index) => ({ value: index, label: `${level.height}p` })));
        });
        player.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
          media.dataset.level = String(data.level);
        });
        player.on(Hls.Events.ERROR, (_, data) => {
          if (data.fatal) setError(`Playback failed: ${data.details}`);
        });
        player.loadSource(video.playback_url!);
        player.attachMedia(media);
      } else if (media.canPlayType("application/vnd.apple.mpegurl")) {
        // Native HLS (Safari): the master playlist, or one rendition's playlist to pin a quality.
        media.src = video.playback_url!;
        setQualities(video.renditions.map((r, index) => ({ value: index, label: `${r.height}p` })));
      } else {
        setError("This browser cannot play HLS.");
      }
    })();
    const onError = () => setError("Playback failed: the media could not be decoded.");
    media.addEventListener("error", onError);
    return () => {
      cancelled = true;
      media.removeEventListener("error", onError);
      hls.current?.destroy();
      hls.current = null;
    };
  }, [video]);

  function choose(value: number) {
    setSelected(value);
    const media = element.current;
    if (!media) return;
    if (hls.current) {
      // -1 lets hls.js pick by bandwidth again.
      hls.current.currentLevel = value;
    } else {
      const at = media.currentTime;
      media.src = value < 0 ? video.playback_url! : video.renditions[value].playlist_url;
      media.currentTime = at;
      void media.play().catch(() => {});
      media.dataset.level = String(value);
    }
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
      />
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
    </div>
  );
}

function Watch() {
  const id = useSearchParams().get("v");
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
        <Player video={video} />
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
