"use client";

import { useCallback, useEffect, useState } from "react";
import { api, type Video, type VideoList } from "@/lib/api";
import { VideoCard } from "@/components/VideoCard";
import { Alert, buttonClass } from "@/components/ui";

const PAGE = 12;

export default function HomePage() {
  const [videos, setVideos] = useState<Video[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (after: string | null) => {
    try {
      const query = after ? `?limit=${PAGE}&cursor=${encodeURIComponent(after)}` : `?limit=${PAGE}`;
      const page = await api<VideoList>(`/api/videos${query}`);
      setVideos((shown) => (after ? [...shown, ...page.videos] : page.videos));
      setCursor(page.next_cursor);
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoaded(true);
    }
  }, []);

  useEffect(() => {
    load(null);
  }, [load]);

  return (
    <section aria-labelledby="home-title" className="space-y-4">
      <h1 id="home-title" className="text-2xl font-semibold">
        Latest videos
      </h1>
      {error && <Alert kind="error">Could not load the videos: {error}</Alert>}
      {loaded && !error && videos.length === 0 && <p>No videos yet. Sign in and upload the first one.</p>}
      <ul className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {videos.map((video) => (
          <VideoCard key={video.id} video={video} />
        ))}
      </ul>
      {cursor && (
        <button type="button" className={buttonClass} onClick={() => load(cursor)}>
          More
        </button>
      )}
    </section>
  );
}
